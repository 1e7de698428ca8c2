"""A leader's board on instance A while A's cluster listener is cut off (PostgreSQL restarted its connection,
a failover): an escalation filed on B meanwhile is a notice A never hears. When A listens again it tells the
board to subscribe again, and the board then holds the escalation it missed. Two real `assist serve`
processes; the instances log in as a role of their own, so that the test can keep their listeners from
reconnecting (NOLOGIN) while their open connections go on working. The second test walks the same in the
leader console in Debian chromium: the card of the missed escalation appears on the board by itself."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from playwright.async_api import Browser, expect

from tests.cluster.routing_cluster import BOUND, Pair, escalate, start_pair
from tests.consoles_leader.test_leader_browser import open_console
from tests.pgcluster import Cluster
from tests.routing.receiver import Receiver

pytestmark = pytest.mark.slow


def own_role(cluster: Cluster) -> tuple[str, str, str]:
    """A fresh schema owned by a fresh login role; (role, the role's URL to the schema, the channel)."""
    role = f"pair_{uuid.uuid4().hex[:8]}"
    url = cluster.fresh_url()
    schema = url.rsplit("search_path%3D", 1)[1]
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        conn.execute(f'ALTER SCHEMA "{schema}" OWNER TO "{role}"')
    return role, url.replace("postgresql://assist@", f"postgresql://{role}@", 1), f"assist_cluster_{schema}"


def cut_listeners(cluster: Cluster, role: str, channel: str) -> psycopg.Connection[tuple[object, ...]]:
    """Keep the instances' listeners from reconnecting and end the ones open; `ALTER ROLE ... LOGIN` on the
    returned connection lets them back."""
    admin = psycopg.connect(cluster.url(), autocommit=True)
    admin.execute(f'ALTER ROLE "{role}" NOLOGIN')  # open connections go on; new ones are refused
    admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s AND query LIKE %s",
        (role, f'LISTEN "{channel}"%'),
    )
    return admin


async def test_a_board_that_missed_a_notice_is_told_to_subscribe_again_and_then_shows_it(
    pg_cluster: Cluster, tmp_path: Path
) -> None:
    receiver = await Receiver(secret="s3cret").start()
    role, url, channel = own_role(pg_cluster)
    pair = await start_pair(pg_cluster, tmp_path, receiver, url=url)
    try:
        leader = await pair.client(pair.a, "s1")
        assert (await leader.call("escalation.subscribe"))["success"]
        agent = await pair.client(pair.b, "a1")
        first = await escalate(agent, "c-1")  # B's notices reach A: the bus works, B's sending connection is open
        assert (await leader.push("escalation.event", timeout=60, event="new"))["escalation"]["escalation_id"] == first

        with cut_listeners(pg_cluster, role, channel) as admin:
            missed = await escalate(agent, "c-2")  # committed on B; its notice reaches no listener
            admin.execute(f'ALTER ROLE "{role}" LOGIN')

        # A tells the board to subscribe again; before that it had not heard of the missed escalation...
        before = []
        while (event := await leader.push("escalation.event", timeout=60))["event"] != "resync":
            before.append(event)
        assert "escalation" not in event
        assert missed not in {e["escalation"]["escalation_id"] for e in before if "escalation" in e}
        # ...and subscribing again, as the console then does, shows the escalation A never heard of.
        again = await leader.call("escalation.subscribe")
        assert {e["escalation_id"] for e in again["escalations"]} >= {first, missed}
    finally:
        await pair.stop()
        await receiver.stop()


@pytest.mark.browser
async def test_the_leader_console_shows_an_escalation_its_instance_missed_once_it_listens_again(
    pg_cluster: Cluster, tmp_path: Path, browser: Browser
) -> None:
    receiver = await Receiver(secret="s3cret").start()
    role, url, channel = own_role(pg_cluster)
    pair: Pair = await start_pair(pg_cluster, tmp_path, receiver, url=url)
    try:
        page = await open_console(browser, pair.a, pair.tokens["s1"])
        await expect(page.get_by_test_id("conn")).to_have_text("已连接", timeout=BOUND * 1000)
        agent = await pair.client(pair.b, "a1")
        first = await escalate(agent, "c-1")  # filed on B, heard on A: it appears live
        await expect(page.get_by_test_id(f"esc-{first}")).to_be_visible(timeout=BOUND * 1000)

        with cut_listeners(pg_cluster, role, channel) as admin:
            missed = await escalate(agent, "c-2")  # committed on B; A never hears of it
            admin.execute(f'ALTER ROLE "{role}" LOGIN')

        # Nobody reloads the page: once A listens again, the board subscribes again and shows the card.
        card = page.get_by_test_id(f"esc-{missed}")
        await expect(card).to_be_visible(timeout=BOUND * 1000)
        await expect(card.locator(".kind")).to_have_text("客户投诉座席员")
        await expect(page.get_by_test_id(f"esc-{first}")).to_be_visible()
        await expect(page.get_by_test_id("banner")).to_be_hidden()
    finally:
        await pair.stop()
        await receiver.stop()
