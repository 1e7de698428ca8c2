"""Who holds a live call when two services share one PostgreSQL schema (two services in this process, real
websocket clients): an instance that starts takes no call another holds; a call resumed on the other instance
is let go by the first (its idle sweep would otherwise end a call that lives on); a call nobody touched for
twice the idle timeout is taken by a sweep and ended as abandoned."""

from __future__ import annotations

from assist.config import DEFAULT_PACK, Settings
from tests.cluster.instances import until
from tests.conftest import open_client, start_shared
from tests.pgcluster import DATA_KEY, Cluster


async def test_a_live_call_is_held_by_one_instance_at_a_time(pg_cluster: Cluster) -> None:
    settings = Settings(
        host="127.0.0.1", ws_port=0, http_port=0, db=pg_cluster.fresh_url("held"), pack=DEFAULT_PACK, data_key=DATA_KEY
    )
    a = await start_shared(settings)
    b = None
    try:
        token = await a.store.issue_token("h1", "agent", a.hub.clock())
        on_a = await open_client(a, token)
        await on_a.call("call.start", call_id="h-1", context={"queue": "retail"})
        await on_a.call("call.note", call_id="h-1", text="客户来电")
        b = await start_shared(settings)
        assert "h-1" not in b.hub.desk.calls, "a starting instance takes no call another holds"

        await on_a.ws.close()  # the softphone's connection to A drops; it reconnects to B
        on_b = await open_client(b, token)
        resumed = await on_b.call("call.start", call_id="h-1", context={"queue": "retail"})
        assert resumed["resumed"] is True
        await until(lambda: "h-1" not in a.hub.desk.calls, "A letting go of the call B holds now")
        assert a.hub.desk.expire(a.hub.clock() + 10**9, settings.call_idle_timeout).writes == []

        # an orphan: the call's holder is gone without ending it, and it stays silent
        b.hub.desk.calls.clear()
        assert await a.hub.adopt_orphans(a.hub.clock()) == 0, "not while it is younger than 2 idle timeouts"
        later = a.hub.clock() + 2 * settings.call_idle_timeout + 1
        assert await a.hub.adopt_orphans(later) == 1
        ended = a.hub.desk.expire(later, settings.call_idle_timeout)
        assert [w.row["disposition"] for w in ended.writes] == ["abandoned"]
        await on_b.ws.close()
    finally:
        await a.close()
        if b is not None:
            await b.close()
