"""docs/protocol.md §6 documents every routing command and push; they exist only while routing runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from assist import protocol
from assist.app import Running
from assist.routing.commands import COMMANDS, PUSH_TYPES
from assist.server.routing.service import RoutingService

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()


@pytest.mark.parametrize("name", [*COMMANDS, *PUSH_TYPES])
def test_routing_message_type_is_documented(name: str) -> None:
    assert f"`{name}`" in DOC


async def test_commands_are_registered_while_routing_runs_and_removed_after(
        center: tuple[Running, RoutingService]) -> None:
    assert set(COMMANDS) <= set(protocol.COMMANDS)
    await center[1].close()
    assert not set(COMMANDS) & set(protocol.COMMANDS)
