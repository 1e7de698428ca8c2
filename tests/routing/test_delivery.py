"""Issue 15 items 2 and 6: console notifications wait for their user (and fall back to SMS after the configured
time), email over a real local SMTP server, and deliveries concurrent across targets but ordered per target."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from assist.app import Running
from assist.config import Settings
from assist.server.routing import store as routing_store
from assist.server.routing.service import RoutingService
from tests.conftest import issue, open_client, start_shared
from tests.routing.conftest import SECRET, routing_toml
from tests.routing.receiver import Receiver
from tests.routing.serve_with_routing import StandingClock
from tests.routing.smtp_server import SmtpServer
from tests.routing.test_play_through import notified, outbox

Center = tuple[Running, RoutingService]
CONSOLE_FIRST = (
    '[[contacts]]\nid = "qm"\nname = "钱经理"\nroles = ["center_manager"]\nconsole = "m2"\n'
    'sms = "13800000009"\nnotify = ["console"]\n'
)
"""A manager told on the console only, who has an SMS number to fall back to."""
MAILBOX = '[[contacts]]\nid = "ml"\nname = "周部长"\nroles = ["department_leader"]\nemail = "zhou@bank.example"\n'


async def center_with(
    settings: Settings, tmp_path: Path, toml: str, clock: StandingClock | None = None
) -> tuple[Running, RoutingService]:
    path = tmp_path / "routing.toml"
    path.write_text(toml, encoding="utf-8")
    s = dataclasses.replace(settings, routing=path, notify_secret=SECRET)
    running = await start_shared(s, **({"clock": clock} if clock is not None else {}))
    return running, running.routing


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    server = await SmtpServer().start()
    try:
        yield server
    finally:
        await server.stop()


async def stop(center: Center) -> None:
    await center[1].close()
    await center[0].close()


async def incident(running: Running, call_id: str) -> str:
    agent = await open_client(running, user="a1001", role="agent")
    await agent.call("call.start", call_id=call_id, context={})
    reply = await agent.call("call.escalate", call_id=call_id, kind="major_incident", reason="客户扬言到网点闹事")
    assert reply["success"], reply
    return str(reply["escalation_id"])


async def audits(running: Running, action: str) -> list[dict[str, Any]]:
    return [a for a in await routing_store.audit_trail(running.store.db) if a["action"] == action]


async def test_console_notification_outlasts_the_retry_budget_then_falls_back_to_sms(
    settings: Settings, tmp_path: Path, receiver: Receiver
) -> None:
    clock = StandingClock(time.time())
    center = await center_with(
        settings,
        tmp_path,
        routing_toml(
            receiver, delivery={"console_fallback_after": "10m", "console_fallback": "sms,email"}, extra=CONSOLE_FIRST
        ),
        clock,
    )
    running, routing = center
    try:
        # Tokens first: issuing one is a direct write on the connection the routing loops read with.
        m2, s1 = await issue(running, "m2", "manager"), await issue(running, "s1", "shift_leader")
        eid = await incident(running, "w1")
        cm_console, cm_sms = f"{eid}|report|qm|console", f"{eid}|report|qm|sms"

        async def attempts() -> int:
            return int((await outbox(running, cm_console))[0]["attempts"])

        # The manager has no console open. Move the clock on, pass after pass, well past max_attempts (6):
        # the notification keeps waiting instead of being given up.
        async def outlast() -> None:
            while await attempts() <= 2 * routing.config.delivery.max_attempts:
                clock.now += 1
                await routing.deliver_due(clock.now)

        await asyncio.wait_for(outlast(), 30)
        row = (await outbox(running, cm_console))[0]
        assert row["failed_at"] is None and row["delivered_at"] is None and "no open console" in row["last_error"]
        assert not await audits(running, "delivery_failed")
        assert cm_sms not in receiver.delivered(), "not yet: 10 minutes have not passed"

        # Ten minutes without a console: the manager is also told by SMS, once, audited; the shift leader has
        # no SMS number, which is audited too. The console notification still waits.
        clock.now += 600
        await receiver.wait_for(lambda: cm_sms in receiver.delivered())
        fallbacks = {a["detail"]["user"]: a for a in await audits(running, "console_fallback")}
        assert fallbacks["m2"]["detail"]["channels"] == ["sms"] and fallbacks["m2"]["detail"]["waited"] >= 600
        assert fallbacks["s1"]["detail"]["channels"] == [] and fallbacks["m1"]["detail"]["channels"] == []
        sms = next(r for r in receiver.received if r["key"] == cm_sms)
        assert sms["to"] == "13800000009" and "重大" in sms["text"]

        manager = await open_client(running, m2)
        assert (await notified(manager, escalation_id=eid))["key"] == cm_console
        leader = await open_client(running, s1)
        await notified(leader, escalation_id=eid)
        clock.now += 3600
        await routing.deliver_due(clock.now)
        assert receiver.delivered()[cm_sms] == 1, "the fallback is sent once"
        assert {a["detail"]["user"] for a in await audits(running, "console_fallback")} == {"m1", "m2", "s1"}
        assert len(await audits(running, "console_fallback")) == 3
    finally:
        await stop(center)


async def test_email_is_delivered_over_smtp_retried_when_refused_and_sent_once(
    settings: Settings, tmp_path: Path, receiver: Receiver, smtp: SmtpServer
) -> None:
    smtp.refuse_first = 2  # 451: try again later
    center = await center_with(
        settings,
        tmp_path,
        routing_toml(
            receiver,
            delivery={
                "smtp_host": "127.0.0.1",
                "smtp_port": smtp.port,
                "smtp_tls": "none",
                "smtp_from": "assist@bank.example",
            },
            extra=MAILBOX,
        ),
    )
    running, routing = center
    try:
        eid = await incident(running, "e1")
        key = f"{eid}|report|ml|email"
        await smtp.wait_for(1)
        mail = smtp.messages[0]
        assert smtp.attempts == 3
        assert mail["X-Envelope-To"] == "zhou@bank.example" and mail["From"] == "assist@bank.example"
        assert mail["Idempotency-Key"] == key and mail["Message-ID"].endswith("@assist.notify>")
        assert mail["Subject"] == f"【重大恶性事件】{eid}"
        payload = mail.get_payload(decode=True)
        assert isinstance(payload, bytes) and "重大、恶性事件" in payload.decode("utf-8")

        async def recorded() -> bool:
            return bool((await outbox(running, key))[0]["delivered_at"])

        while not await recorded():  # the delivery is recorded right after the server accepted it
            await routing.deliver_due(time.time())
        row = (await outbox(running, key))[0]
        assert row["attempts"] == 3 and row["failed_at"] is None
        await routing.deliver_due(time.time() + 3600)  # every retry long due: nothing is sent again
        assert len(smtp.messages) == 1 and smtp.attempts == 3
    finally:
        await stop(center)


async def test_email_refused_for_good_is_failed_at_once_and_audited(
    settings: Settings, tmp_path: Path, receiver: Receiver, smtp: SmtpServer
) -> None:
    smtp.refuse_first, smtp.refuse_code = 100, "550 5.1.1 no such mailbox"
    center = await center_with(
        settings,
        tmp_path,
        routing_toml(
            receiver, delivery={"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_tls": "none"}, extra=MAILBOX
        ),
    )
    running, routing = center
    try:
        eid = await incident(running, "e2")

        async def failed() -> list[dict[str, Any]]:
            while not (found := await audits(running, "delivery_failed")):
                await routing.deliver_due(time.time())
            return found

        found = await asyncio.wait_for(failed(), 10)
        assert found[0]["detail"]["key"] == f"{eid}|report|ml|email" and "550" in found[0]["detail"]["error"]
        assert smtp.attempts == 1 and (await outbox(running, f"{eid}|report|ml|email"))[0]["failed_at"]
    finally:
        await stop(center)


async def test_a_slow_webhook_delays_only_its_own_target_whose_order_is_kept(
    settings: Settings, tmp_path: Path, receiver: Receiver
) -> None:
    gate = asyncio.Event()
    receiver.hold["/hook/dl"] = gate
    center = await center_with(settings, tmp_path, routing_toml(receiver, delivery={"timeout": 60}))
    running, _ = center
    try:
        manager = await open_client(running, user="m1", role="manager")
        first = await incident(running, "o1")
        await receiver.wait_for(lambda: receiver.holding.get("/hook/dl") == 1)
        # The department leader's webhook hangs. Everyone else is told all the same, now and afterwards.
        await receiver.wait_for(lambda: f"{first}|report|dl|sms" in receiver.delivered())
        await notified(manager, escalation_id=first)
        second = await incident(running, "o2")
        await notified(manager, escalation_id=second)
        await receiver.wait_for(lambda: f"{second}|report|dl|sms" in receiver.delivered())
        assert receiver.attempts["/hook/dl"] == 1, "the second webhook call waits behind the first"

        gate.set()
        want = [f"{first}|report|dl|webhook", f"{second}|report|dl|webhook"]
        await receiver.wait_for(lambda: set(receiver.delivered("/hook/dl")) == set(want))
        assert [r["key"] for r in receiver.received if r["path"] == "/hook/dl"] == want
        assert [r["key"] for r in receiver.received if r["path"] == "/sms"] == [
            f"{first}|report|dl|sms",
            f"{second}|report|dl|sms",
        ]
    finally:
        gate.set()
        await stop(center)
