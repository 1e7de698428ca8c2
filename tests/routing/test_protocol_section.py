"""docs/protocol.md §6 documents every routing command and push; they exist only while routing runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from assist import protocol
from assist.app import Running
from assist.routing.commands import COMMANDS, PUSH_TYPES
from assist.server.routing.service import RoutingService

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()


@pytest.mark.parametrize("name", [*(s.name for s in COMMANDS), *PUSH_TYPES])
def test_routing_message_type_is_documented(name: str) -> None:
    assert f"`{name}`" in DOC


async def test_routing_commands_are_in_the_instance_table_only(center: tuple[Running, RoutingService]) -> None:
    hub = center[0].hub
    assert {s.name for s in COMMANDS} <= set(hub.commands.types())
    bare = protocol.CommandTable(protocol.LIVE_COMMANDS)  # another instance's table is its own
    assert not {s.name for s in COMMANDS} & set(bare.types())
