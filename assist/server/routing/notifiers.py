"""Notifiers: how an outbox row reaches a person — console push, webhook, SMS gateway, email (SMTP).

Each is one small class behind the `Notifier` protocol; it raises `DeliveryFailed` and the
outbox loop retries with exponential backoff. Every request carries the row's idempotency
key (`Idempotency-Key`), so a receiver can drop the rare repeat that a crash between
"sent" and "marked delivered" can cause. HTTP bodies are signed with HMAC-SHA256
(`X-Assist-Signature: sha256=<hex>`) when a secret is configured. An email carries the key as
`Idempotency-Key` and in its `Message-ID`, which mail systems already de-duplicate on.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

import aiohttp
import aiosmtplib

from assist import messages


class DeliveryFailed(Exception):
    """This attempt failed; the outbox retries later (unless `permanent`: no retry can succeed)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class NotConnected(DeliveryFailed):
    """The console user has no connection open: not a failure, the notification waits for them."""


@dataclass(frozen=True, slots=True)
class Message:
    key: str
    source: str
    step: str
    recipient: str
    channel: str
    address: str
    text: str

    def to_json(self) -> dict[str, str]:
        return {
            "key": self.key,
            "source": self.source,
            "step": self.step,
            "recipient": self.recipient,
            "channel": self.channel,
            "text": self.text,
        }


class Notifier(Protocol):
    async def deliver(self, message: Message) -> None: ...


def retry_delay(attempts: int, base: float, cap: float) -> float:
    """Seconds before the next try after `attempts` failed ones: base, 2·base, 4·base, … up to `cap`."""
    return float(min(cap, base * 2 ** max(0, attempts - 1)))


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class ConsoleNotifier:
    """Pushes to the recipient's open websocket connections; fails (and is retried) while none is open."""

    def __init__(self, send_to_user: Callable[[str, dict[str, Any]], int]) -> None:
        self.send_to_user = send_to_user

    async def deliver(self, message: Message) -> None:
        push = messages.escalation_notify(message.key, message.source, message.step, message.text)
        if self.send_to_user(message.address, push) == 0:
            raise NotConnected(f"{message.address} has no open console")


async def post_signed(
    session: aiohttp.ClientSession, url: str, payload: dict[str, Any], key: str, secret: str, timeout: float
) -> None:
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": key}
    if secret:
        headers["X-Assist-Signature"] = sign(secret, body)
    try:
        async with session.post(url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
            if resp.status >= 300:
                raise DeliveryFailed(f"{url} answered {resp.status}")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise DeliveryFailed(f"{url}: {type(exc).__name__}: {exc}") from None


class WebhookNotifier:
    """POSTs the notification as JSON to the contact's webhook URL."""

    def __init__(self, session: aiohttp.ClientSession, secret: str, timeout: float) -> None:
        self.session, self.secret, self.timeout = session, secret, timeout

    async def deliver(self, message: Message) -> None:
        await post_signed(self.session, message.address, message.to_json(), message.key, self.secret, self.timeout)


class SmsGateway(Protocol):
    async def send_sms(self, number: str, text: str, key: str) -> None: ...


class HttpSmsGateway:
    """A gateway that takes {"to", "text", "id"} by HTTP POST (most SMS providers have such an API)."""

    def __init__(self, session: aiohttp.ClientSession, url: str, secret: str, timeout: float) -> None:
        self.session, self.url, self.secret, self.timeout = session, url, secret, timeout

    async def send_sms(self, number: str, text: str, key: str) -> None:
        await post_signed(
            self.session, self.url, {"to": number, "text": text, "id": key}, key, self.secret, self.timeout
        )


class SmsNotifier:
    def __init__(self, gateway: SmsGateway) -> None:
        self.gateway = gateway

    async def deliver(self, message: Message) -> None:
        await self.gateway.send_sms(message.address, message.text, message.key)


class EmailNotifier:
    """Sends the notification as a plain-text email through an SMTP server (aiosmtplib).

    A 4xx answer (e.g. 451, greylisting, a full queue), a dropped connection or a timeout is retried;
    a 5xx answer (no such mailbox, relaying refused) is permanent: the row is marked failed at once.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        tls: str = "auto",
        user: str = "",
        password: str = "",
        sender: str = "assist@localhost",
        timeout: float = 5.0,
    ) -> None:
        self.host, self.port, self.tls, self.user, self.password = host, port, tls, user, password
        self.sender, self.timeout = sender, timeout

    def compose(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.address
        first = message.text.split(" ", 1)[0]
        mail["Subject"] = first if first.startswith(("【", "（")) else message.text[:40]
        digest = hashlib.sha256(message.key.encode()).hexdigest()[:32]
        mail["Message-ID"] = f"<{digest}@assist.notify>"
        mail["Idempotency-Key"] = message.key
        mail.set_content(message.text)
        return mail

    async def deliver(self, message: Message) -> None:
        try:
            await aiosmtplib.send(
                self.compose(message),
                hostname=self.host,
                port=self.port,
                username=self.user or None,
                password=self.password or None,
                timeout=self.timeout,
                use_tls=self.tls == "tls",
                start_tls={"auto": None, "starttls": True}.get(self.tls, False),
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            raise DeliveryFailed(
                f"{message.address} refused: {codes}", permanent=all(c >= 500 for c in codes)
            ) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryFailed(
                f"SMTP {self.host}:{self.port} answered {exc.code} {exc.message}", permanent=exc.code >= 500
            ) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"SMTP {self.host}:{self.port}: {type(exc).__name__}: {exc}") from None
