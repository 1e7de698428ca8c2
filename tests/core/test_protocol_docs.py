"""docs/protocol.md documents every command, push and error code the server has."""

from __future__ import annotations

from pathlib import Path

import pytest

from assist import messages, protocol
from assist.errors import ERROR_CODES, AssistError, InvalidFormat, InvalidJSON, UnknownCommand

LIVE = protocol.CommandTable(protocol.LIVE_COMMANDS)
DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()


@pytest.mark.parametrize("name", [*(s.name for s in protocol.LIVE_COMMANDS), *messages.PUSH_TYPES])
def test_message_type_is_documented(name: str) -> None:
    assert f"`{name}`" in DOC


@pytest.mark.parametrize("code", ERROR_CODES)
def test_error_code_is_documented(code: str) -> None:
    assert f"`{code}`" in DOC


def test_every_error_class_code_is_listed() -> None:
    def walk(cls: type[AssistError]) -> list[type[AssistError]]:
        return [cls, *(c for sub in cls.__subclasses__() for c in walk(sub))]

    assert {c.code for c in walk(AssistError)} <= set(ERROR_CODES)


def test_parse_rejects_bad_frames_with_codes() -> None:
    with pytest.raises(InvalidJSON):
        protocol.decode_frame("{")
    with pytest.raises(InvalidFormat):
        protocol.command_id({"id": True, "type": "ping"})
    with pytest.raises(UnknownCommand):
        LIVE.parse({"id": 1, "type": "nope"})
    with pytest.raises(InvalidFormat, match="call_id"):
        LIVE.parse({"id": 1, "type": "call.note", "text": "x"})
    with pytest.raises(InvalidFormat):
        LIVE.parse({"id": 1, "type": "call.note", "call_id": "", "text": "x"})


def test_extra_context_keys_are_kept() -> None:
    cmd = LIVE.parse(
        {"id": 1, "type": "call.start", "call_id": "c", "context": {"queue": "retail", "ivr_path": "1-3", "vip": True}}
    )
    assert isinstance(cmd, protocol.CallStart)
    assert cmd.context == {"queue": "retail", "ivr_path": "1-3", "vip": True}


def test_a_table_refuses_a_command_declared_twice() -> None:
    with pytest.raises(ValueError, match="twice"):
        protocol.CommandTable([*protocol.LIVE_COMMANDS, protocol.LIVE_COMMANDS[0]])


def test_roles_are_per_command_and_per_table() -> None:
    assert LIVE.allows("call.note", "agent") and not LIVE.allows("call.note", "trainer")
    assert LIVE.allows("ping", "trainer")
    assert not LIVE.allows("escalation.list", "shift_leader")  # routing's commands are not in this table
