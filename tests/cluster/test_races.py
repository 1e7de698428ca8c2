"""Races between two instances on one PostgreSQL schema (two services in this process, real websocket clients),
each made to happen: the test holds a row lock that both instances' statements need, waits until both are
blocked on it, then lets go — so both decide at the same moment, as two sweeps or two leaders may.

- an orphaned call swept by both instances is adopted by one and ended once;
- two leaders linking one call to two faults leave it on one fault, with an audit that tells one story;
  linking it twice to one fault, or unlinking it twice, answers the second leader as one alone would be;
- `call.get` on the instance that does not hold a live call answers with the call as stored, and keeps the
  viewer up to date."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import psycopg

from assist.app import Running
from assist.config import DEFAULT_PACK, Settings
from assist.effects import Push, Write
from assist.server.routing import store as routing_store
from tests.cluster.instances import until
from tests.conftest import Client, open_client, start_shared
from tests.pgcluster import DATA_KEY, Cluster, query


def shared(cluster: Cluster, prefix: str) -> Settings:
    return Settings(
        host="127.0.0.1", ws_port=0, http_port=0, db=cluster.fresh_url(prefix), pack=DEFAULT_PACK, data_key=DATA_KEY
    )


@contextlib.asynccontextmanager
async def two_instances(settings: Settings) -> AsyncIterator[tuple[Running, Running]]:
    a = await start_shared(settings)
    b = None
    try:
        b = await start_shared(settings)
        yield a, b
    finally:
        if b is not None:
            await b.close()
        await a.close()


async def blocked(url: str, sql: str, args: Sequence[Any], *racers: Awaitable[Any], waiting: int = 2) -> list[Any]:
    """Run `racers` while this test's own transaction holds the lock `sql` takes; once `waiting` of the
    instances' statements wait for it, let go, and return what the racers returned. Both then decide at once:
    whatever serialises them is the database's, not the order the test started them in."""
    async with await psycopg.AsyncConnection.connect(url) as holder:
        await holder.execute(sql, args)  # holds the lock until the commit below
        tasks = [asyncio.ensure_future(r) for r in racers]
        try:

            async def stuck() -> bool:
                async with await psycopg.AsyncConnection.connect(url, autocommit=True) as look:
                    cur = await look.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
                    row = await cur.fetchone()
                    return row is not None and int(row[0]) >= waiting

            await until(stuck, f"{waiting} statements waiting for the test's lock")
            await holder.commit()
            return list(await asyncio.gather(*tasks))
        finally:
            for t in tasks:
                t.cancel()


# -- 1. an orphaned call --------------------------------------------------------------------------------------


async def test_an_orphan_swept_by_two_instances_at_once_is_adopted_by_one_and_ended_once(
    pg_cluster: Cluster,
) -> None:
    settings = shared(pg_cluster, "orphan")
    url = str(settings.db)
    async with two_instances(settings) as (a, b):
        # a call left live by a third instance that died, its softphone never back
        t0 = time.time()
        await a.store.write(
            [
                Write("call_start", {"call_id": "o-1", "user": "a9", "context": {"queue": "retail"}, "started_at": t0}),
                Write("call_event", {"call_id": "o-1", "kind": "note", "payload": {"text": "客户来电"}, "at": t0}),
            ]
        )
        ended: list[tuple[str, Push]] = []

        def told(name: str) -> Callable[[Sequence[Push]], None]:
            return lambda pushes: ended.extend((name, p) for p in pushes if p.message.get("type") == "call.ended")

        a.hub.committed_observers.append(told("a"))
        b.hub.committed_observers.append(told("b"))
        later = t0 + 2 * settings.call_idle_timeout + 1
        # both sweeps at the same minute; the test holds the call's row so that neither is first
        await blocked(
            url,
            "SELECT 1 FROM calls WHERE call_id = %s FOR UPDATE",
            ("o-1",),
            a.hub.sweep(later),
            b.hub.sweep(later),
        )
        assert len(ended) == 1, f"the call is ended by exactly one instance, not {[n for n, _ in ended]}"
        winner = {"a": a, "b": b}[ended[0][0]]
        [row] = query(url, "SELECT ended_at, disposition, adopted_by FROM calls WHERE call_id = 'o-1'")
        assert row == {"ended_at": later, "disposition": "abandoned", "adopted_by": winner.hub.bus.instance}

        # the next minute's sweeps take nothing, and an end that comes late does not rewrite the record
        await a.hub.sweep(later + 60)
        await b.hub.sweep(later + 60)
        assert len(ended) == 1
        end_again = {"call_id": "o-1", "ended_at": later + 99, "disposition": "resolved", "category": "x", "labels": []}
        await a.store.write([Write("call_end", end_again)])
        [again] = query(url, "SELECT ended_at, disposition FROM calls WHERE call_id = 'o-1'")
        assert again == {"ended_at": later, "disposition": "abandoned"}, "ending an ended call changes nothing"


# -- 2. fault links ---------------------------------------------------------------------------------------------

LOCK_LINKS = "LOCK TABLE routing_fault_calls IN EXCLUSIVE MODE"
"""Reads pass; every link or unlink written waits: both leaders' commands are under way when it is let go."""


async def open_fault(admin: Client, system: str) -> str:
    reply = await admin.call(
        "fault.open", occurred_at=time.time(), symptoms="转账提示系统繁忙", level=1, system=system, reported_by="sa1"
    )
    assert reply["success"], reply
    return str(reply["fault"]["fault_id"])


def links(url: str, call_id: str) -> list[str]:
    rows = query(url, "SELECT fault_id FROM routing_fault_calls WHERE call_id = %s AND removed_at IS NULL", call_id)
    return [str(r["fault_id"]) for r in rows]


async def link_audits(running: Running, call_id: str) -> list[tuple[str, str, Any, Any]]:
    """(action, fault, moved_from, moved_to) of the call's link and unlink audit lines, in order."""
    return [
        (r["action"], r["subject"], r["detail"].get("moved_from"), r["detail"].get("moved_to"))
        for r in await routing_store.audit_trail(running.store.db)
        if r["action"] in ("fault_link", "fault_unlink") and r["detail"].get("call_id") == call_id
    ]


async def test_two_leaders_linking_one_call_at_once_leave_it_on_one_fault_with_one_story(pg_cluster: Cluster) -> None:
    settings = shared(pg_cluster, "links")
    url = str(settings.db)
    async with two_instances(settings) as (a, b):
        agent = await open_client(a, user="a1001", role="agent")
        admin = await open_client(a, user="sa1", role="seat_admin")
        on_a = await open_client(a, user="s1", role="shift_leader")
        on_b = await open_client(b, user="s2", role="shift_leader")
        mobile, sms = await open_fault(admin, "手机银行"), await open_fault(admin, "短信平台")
        for call_id in ("k-1", "k-2"):
            assert (await agent.call("call.start", call_id=call_id, context={}))["success"]

        # two faults: the call ends up on one, and the audit says it moved from the first to the second
        got = await blocked(
            url,
            LOCK_LINKS,
            (),
            on_a.call("fault.link", fault_id=mobile, call_id="k-1"),
            on_b.call("fault.link", fault_id=sms, call_id="k-1"),
        )
        assert [r["success"] for r in got] == [True, True], got
        [where] = links(url, "k-1")
        first = sms if where == mobile else mobile
        assert await link_audits(a, "k-1") == [
            ("fault_link", first, None, None),
            ("fault_unlink", first, None, where),
            ("fault_link", where, first, None),
        ]

        # one fault, twice: the second leader is told it is linked already, as one alone would be
        got = await blocked(
            url,
            LOCK_LINKS,
            (),
            on_a.call("fault.link", fault_id=mobile, call_id="k-2"),
            on_b.call("fault.link", fault_id=mobile, call_id="k-2"),
        )
        assert sorted(str(r.get("error", {}).get("code", "ok")) for r in got) == ["conflict", "ok"], got
        assert links(url, "k-2") == [mobile]
        assert [x[0] for x in await link_audits(a, "k-2")] == ["fault_link"]

        # unlinked twice at once: once, and the second leader is told it is not counted there
        got = await blocked(
            url,
            LOCK_LINKS,
            (),
            on_a.call("fault.unlink", fault_id=mobile, call_id="k-2"),
            on_b.call("fault.unlink", fault_id=mobile, call_id="k-2"),
        )
        assert sorted(str(r.get("error", {}).get("code", "ok")) for r in got) == ["not_found", "ok"], got
        assert links(url, "k-2") == []
        assert [x[0] for x in await link_audits(a, "k-2")] == ["fault_link", "fault_unlink"]


# -- 3. call.get on the other instance ---------------------------------------------------------------------------


async def test_call_get_on_the_instance_that_does_not_hold_the_call_shows_it_as_stored_and_follows_it(
    pg_cluster: Cluster,
) -> None:
    settings = shared(pg_cluster, "get")
    async with two_instances(settings) as (a, b):
        token = await a.store.issue_token("a1001", "agent", time.time())
        softphone = await open_client(a, token)  # the call lives on A
        started = await softphone.call("call.start", call_id="g-1", context={"queue": "retail"})
        assert started["success"], started
        await softphone.call("call.note", call_id="g-1", text="客户咨询账户余额")
        sidebar = await open_client(b, token)  # the agent's sidebar, reloaded, lands on B
        other = await open_client(b, user="a2002", role="agent")

        got = await sidebar.call("call.get", call_id="g-1")
        assert got["success"], got
        held = a.hub.desk.update_message(a.hub.desk.calls["g-1"], "")
        assert {k: got["update"][k] for k in ("call_id", "category", "labels")} == {
            k: held[k] for k in ("call_id", "category", "labels")
        }
        assert "g-1" not in b.hub.desk.calls, "B answers from the store; A still holds the call"
        refused = await other.call("call.get", call_id="g-1")
        assert refused["error"]["code"] == "not_found", "another agent's call stays hidden"

        # what A decides next reaches the sidebar on B, and so does the end of the call
        noted = await softphone.call("call.note", call_id="g-1", text="客户说手机银行转账一直提示系统繁忙，转不了")
        assert "system_outage" in noted["labels"], noted
        update = await sidebar.push("assist.update", call_id="g-1")
        assert update["labels"] == noted["labels"]
        await softphone.call("call.end", call_id="g-1", disposition="resolved")
        await sidebar.push("call.ended", call_id="g-1")
