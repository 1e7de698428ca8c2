"""The prompt never waits for the disk; the acknowledgement does (issue 12).

The store's writer is held by a console's unit of work (as a pack publish or a token issue would
hold it): a note that changes the call's labels still reaches the sidebar as `assist.update`, and
its `result` comes only once the writer is free and the note is committed.
"""

from __future__ import annotations

import asyncio
import json

from assist.app import Running
from tests.conftest import Client


async def test_the_update_is_pushed_while_the_store_is_busy_and_the_result_follows_the_commit(
    service: Running, agent: Client
) -> None:
    await agent.call("call.start", call_id="p1", context={"queue": "retail"})
    await agent.push("assist.update", call_id="p1")
    note = "客户说手机银行转账提示系统繁忙，多次失败"
    release = asyncio.Event()
    held = asyncio.Event()

    async def hold_the_writer() -> None:
        async with service.store.unit():
            held.set()
            await release.wait()

    holder = asyncio.create_task(hold_the_writer())
    try:
        await held.wait()
        await agent.ws.send(
            json.dumps({"id": 99, "type": "call.note", "call_id": "p1", "text": note}, ensure_ascii=False)
        )
        first = await agent.recv()
        assert first["type"] == "assist.update" and first["category"] == "system_outage"
        stored = await service.store.live_call("p1")
        assert stored is not None and all(e["kind"] != "note" for e in stored[1])  # not committed yet
    finally:
        release.set()  # a failure must not leave the writer held (the service could not close)
        await holder
    result = await agent.reply(99)
    assert result["success"] and result["category"] == "system_outage"
    stored = await service.store.live_call("p1")
    assert stored is not None and [e["payload"]["text"] for e in stored[1] if e["kind"] == "note"] == [note]
