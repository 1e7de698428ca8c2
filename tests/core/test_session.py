"""A connection's session: authenticate first, ids increase, each command parsed by the instance's table and
refused to a role the table does not allow."""

from __future__ import annotations

import pytest

from assist import protocol
from assist.errors import AuthRequired, IdReuse, InvalidFormat, Unauthorized, UnknownCommand
from assist.session import Principal, Session

TABLE = protocol.CommandTable(protocol.LIVE_COMMANDS)


def ready(role: str = "agent") -> Session:
    session = Session(TABLE)
    session.authenticate(Principal("a1", role, "zh-CN"))
    return session


def test_authenticating_says_who_and_in_which_language() -> None:
    session = Session(TABLE)
    assert not session.ready
    assert session.authenticate(Principal("a1", "agent", "en")) == {
        "type": "auth_ok",
        "user": "a1",
        "role": "agent",
        "lang": "en",
    }
    assert session.ready


def test_a_command_before_authentication_is_refused() -> None:
    with pytest.raises(AuthRequired):
        Session(TABLE).accept({"id": 1, "type": "ping"})


def test_ids_must_increase_and_a_refused_id_still_counts() -> None:
    session = ready()
    assert isinstance(session.accept({"id": 2, "type": "ping"}), protocol.Ping)
    with pytest.raises(IdReuse):
        session.accept({"id": 2, "type": "ping"})
    with pytest.raises(UnknownCommand):
        session.accept({"id": 3, "type": "nope"})
    with pytest.raises(IdReuse):
        session.accept({"id": 3, "type": "ping"})


def test_the_command_carries_its_id_and_typed_fields() -> None:
    cmd = ready().accept({"id": 9, "type": "call.note", "call_id": "c1", "text": "客户问利率"})
    assert isinstance(cmd, protocol.CallNote) and (cmd.id, cmd.call_id, cmd.text) == (9, "c1", "客户问利率")


def test_a_role_the_table_does_not_allow_is_refused() -> None:
    with pytest.raises(Unauthorized, match="trainer"):
        ready("trainer").accept({"id": 1, "type": "call.start", "call_id": "c1"})
    assert isinstance(ready("trainer").accept({"id": 1, "type": "ping"}), protocol.Ping)


def test_a_command_of_another_instance_is_unknown_here() -> None:
    with pytest.raises(UnknownCommand):
        ready("shift_leader").accept({"id": 1, "type": "escalation.list"})


def test_a_bad_id_is_invalid_format() -> None:
    for bad in (0, -1, True, 1.5, "1", None):
        with pytest.raises(InvalidFormat):
            ready().accept({"id": bad, "type": "ping"})
