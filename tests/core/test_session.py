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


def test_an_agent_is_shown_its_own_call_ids_as_it_sent_them() -> None:
    from assist.session import scope_prefix, unscoped

    prefix = scope_prefix("a/13")
    assert prefix == "a%2F13/", "a user's prefix can never be the start of another's"
    message = {
        "type": "call.escalation",
        "call_id": prefix + "pbx-1",
        "escalation": {"subject": {"call_id": prefix + "pbx-1"}, "calls": [{"call_id": "a12/pbx-2"}]},
        "error": {"message": f"no live call '{prefix}pbx-1'"},
    }
    shown = unscoped(message, prefix)
    assert shown["call_id"] == "pbx-1" and shown["escalation"]["subject"]["call_id"] == "pbx-1"
    assert shown["escalation"]["calls"][0]["call_id"] == "a12/pbx-2", "another agent's key is not the agent's id"
    assert shown["error"]["message"] == "no live call 'pbx-1'"
    assert message["call_id"] == prefix + "pbx-1", "the message shared with other watchers is not changed"
    plain = {"type": "assist.update", "call_id": "pbx-3"}
    assert unscoped(plain, prefix) is plain
