"""The wire protocol: parse inbound frames into typed commands, build outbound messages.

In the style of Home Assistant's websocket API: every command has an integer `id`
and a `type` and gets exactly one `result` reply; pushes carry no `id`. Parsing is
pure and raises the error classes of `assist.errors`; docs/protocol.md documents
every message (a test checks that each type here is documented there).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import msgspec

from assist.errors import InvalidFormat, InvalidJSON, UnknownCommand, ValidationFailed

ROLES: tuple[str, ...] = ("agent", "shift_leader", "seat_admin", "back_office", "manager", "trainer", "admin")
"""Roles a token can carry (`assist token issue --role`)."""
AGENT_ROLES = frozenset({"agent", "admin"})


MAX_NOTE_CHARS = 8_000
"""A call's note (the agent's whole note field, re-sent on every edit)."""
MAX_LINE_CHARS = 2_000
"""One transcript line (speech-to-text sends a sentence or two at a time)."""
MAX_CONTEXT_KEYS = 50
MAX_CONTEXT_BYTES = 16_384
"""A call's context, counted as the bytes of its JSON."""
MAX_DEPTH = 8
"""How deeply a command's JSON may nest (a call's context is the only nested part)."""


class Command(msgspec.Struct, kw_only=True):
    """Base of every command; `id` is set from the envelope."""

    id: int = 0

    def check(self) -> None:
        """Limits a command's fields must keep beyond their types; raises `ValidationFailed`."""


class Auth(msgspec.Struct, kw_only=True):
    token: str
    lang: str | None = None


class Ping(Command):
    pass


class CallStart(Command):
    call_id: str
    context: dict[str, Any] = msgspec.field(default_factory=dict)

    def check(self) -> None:
        if len(self.context) > MAX_CONTEXT_KEYS:
            raise ValidationFailed(f"context: at most {MAX_CONTEXT_KEYS} keys", field="context")
        if len(_ENCODE(self.context)) > MAX_CONTEXT_BYTES:
            raise ValidationFailed(f"context: at most {MAX_CONTEXT_BYTES} bytes of JSON", field="context")


class CallNote(Command):
    call_id: str
    text: str

    def check(self) -> None:
        if len(self.text) > MAX_NOTE_CHARS:
            raise ValidationFailed(f"text: a note of at most {MAX_NOTE_CHARS} characters", field="text")


class CallTranscript(Command):
    call_id: str
    speaker: Literal["customer", "agent", "supervisor", "third_party"]  # classifier.segments.SPEAKERS
    text: str
    final: bool = True

    def check(self) -> None:
        if len(self.text) > MAX_LINE_CHARS:
            raise ValidationFailed(f"text: a line of at most {MAX_LINE_CHARS} characters", field="text")


class CallEnd(Command):
    call_id: str
    disposition: str = ""


class CallGet(Command):
    call_id: str


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """One command a server accepts: its wire `type`, its struct and the roles that may send it."""

    name: str
    cls: type[Command]
    roles: frozenset[str]


LIVE_COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("ping", Ping, frozenset(ROLES)),
    CommandSpec("call.start", CallStart, AGENT_ROLES),
    CommandSpec("call.note", CallNote, AGENT_ROLES),
    CommandSpec("call.transcript", CallTranscript, AGENT_ROLES),
    CommandSpec("call.end", CallEnd, AGENT_ROLES),
    CommandSpec("call.get", CallGet, AGENT_ROLES),
)
"""The live call's commands; features declare theirs the same way (`routing/commands.py`, `feedback/commands.py`)."""

MAX_ID_LEN = 128

T = TypeVar("T")


class CommandTable:
    """The commands one server instance accepts, built when it starts (a hub without routing answers
    `unknown_command` for routing's commands). Nothing here is process-wide."""

    def __init__(self, specs: Iterable[CommandSpec] = ()) -> None:
        self._by_type: dict[str, CommandSpec] = {}
        self._by_cls: dict[type[Command], CommandSpec] = {}
        self.add(specs)

    def add(self, specs: Iterable[CommandSpec]) -> None:
        for spec in specs:
            if spec.name in self._by_type or spec.cls in self._by_cls:
                raise ValueError(f"command {spec.name!r} is declared twice")
            self._by_type[spec.name] = spec
            self._by_cls[spec.cls] = spec

    def __contains__(self, type_: object) -> bool:
        return type_ in self._by_type

    def types(self) -> tuple[str, ...]:
        return tuple(self._by_type)

    def parse(self, data: dict[str, Any]) -> Command:
        """Validate a decoded message into its typed command. `id` must be checked first."""
        type_ = data.get("type")
        if not isinstance(type_, str):
            raise InvalidFormat("every command needs a string 'type'")
        spec = self._by_type.get(type_)
        if spec is None:
            raise UnknownCommand(f"unknown command type {type_!r}")
        cmd = _convert({k: v for k, v in data.items() if k != "type"}, spec.cls)
        call_id = getattr(cmd, "call_id", None)
        if isinstance(call_id, str) and not (0 < len(call_id) <= MAX_ID_LEN):
            raise InvalidFormat(f"call_id must be 1 to {MAX_ID_LEN} characters")
        cmd.check()
        return cmd

    def allows(self, type_: str, role: str) -> bool:
        spec = self._by_type.get(type_)
        return spec is not None and role in spec.roles

    def type_of(self, cmd: Command) -> str:
        return self._by_cls[type(cmd)].name


def decode_frame(frame: str | bytes) -> dict[str, Any]:
    """A frame must be one JSON object, nested at most `MAX_DEPTH` levels."""
    try:
        data = msgspec.json.decode(frame)
    except RecursionError:
        raise InvalidJSON(f"a message may nest at most {MAX_DEPTH} levels") from None
    except msgspec.DecodeError as exc:
        raise InvalidJSON(f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidJSON("a message must be a JSON object")
    opened = frame.count(b"{") + frame.count(b"[") if isinstance(frame, bytes) else frame.count("{") + frame.count("[")
    if opened > MAX_DEPTH:  # only then can it be too deep; walking is bounded by the frame's size
        try:
            _depth(data, 1)
        except _TooDeep:
            raise InvalidJSON(f"a message may nest at most {MAX_DEPTH} levels") from None
    return data


class _TooDeep(Exception):
    pass


def _depth(value: Any, level: int) -> None:
    if level > MAX_DEPTH:
        raise _TooDeep
    if isinstance(value, dict):
        for v in value.values():
            if isinstance(v, dict | list):
                _depth(v, level + 1)
    elif isinstance(value, list):
        for v in value:
            if isinstance(v, dict | list):
                _depth(v, level + 1)


class _Envelope(msgspec.Struct):
    id: Any = None


def frame_id(frame: str | bytes) -> int | None:
    """The command id of a frame refused before parsing (too large), when its JSON can be read: the reply then
    says which command it answers."""
    try:
        cid = msgspec.json.decode(frame, type=_Envelope).id
    except (msgspec.DecodeError, RecursionError):
        return None
    return cid if isinstance(cid, int) and not isinstance(cid, bool) and cid > 0 else None


def parse_auth(data: dict[str, Any]) -> Auth:
    if data.get("type") != "auth":
        raise InvalidFormat('the first message must be {"type": "auth", "token": ...}')
    return _convert({k: v for k, v in data.items() if k != "type"}, Auth)


def command_id(data: dict[str, Any]) -> int:
    """The command's id, which must be a positive integer (not a bool or float)."""
    cid = data.get("id")
    if not isinstance(cid, int) or isinstance(cid, bool) or cid < 1:
        raise InvalidFormat("every command needs an integer 'id' ≥ 1")
    return cid


_ENCODE = msgspec.json.encode


def _convert(data: dict[str, Any], cls: type[T]) -> T:
    try:
        return msgspec.convert(data, cls)
    except msgspec.ValidationError as exc:
        raise InvalidFormat(str(exc)) from None
