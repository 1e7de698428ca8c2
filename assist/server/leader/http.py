"""The shift-leader console's HTTP side: the page at /console/leader and its JSON API under /api/leader/.

Escalations and faults move over the websocket (docs/protocol.md §6) — the page is one more
leader client, so ack, note, resolve and the fault form act exactly as any console would. HTTP
carries what the protocol has no command for: the websocket address, names for ids, the live
calls (the supervisor's overview), a call's context and records, and the daily report (preview,
send now). Every API call needs a leader token (shift_leader, seat_admin, back_office, manager;
admin passes): 401 without one, 403 for another role. The page itself is static and holds no
secret. The guide and API reference are docs/leader.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from aiohttp import web
from websockets.asyncio.server import Server

from assist.errors import InvalidFormat, InvalidJSON, NotFound
from assist.live.calls import CallState
from assist.routing.commands import FAULT_CAUSE_ROLES, FAULT_ROLES
from assist.routing.escalation import local_day
from assist.routing.report import DayFacts, report_figures, report_text
from assist.server.leader import data, emergency
from assist.server.leader.live import DEFAULT_PAGE, PAGE_LIMIT, LiveCalls
from assist.server.leader.report import manual_report, recipients_of
from assist.server.routing import store as rs
from assist.server.routing.service import RoutingService
from assist.server.web.auth import require_role
from assist.server.web.console_pages import add_console_page, json_response
from assist.session import Principal

ROLES = ("shift_leader", "seat_admin", "back_office", "manager")
"""Login roles that may open the console (admin always passes)."""
TRANSCRIPT_TAIL = 8
ROUTED_ROLES = (
    "shift_leader",
    "seat_admin",
    "back_office_duty",
    "center_manager",
    "department_leader",
    "ebanking_dept",
    "emergency_contact",
)
"""The roles the plan's escalation steps go to: the console warns when the directory has nobody for one."""


@dataclass(frozen=True)
class Leader:
    """What the handlers need: the routing service (hub, store, config) and the websocket server for its port."""

    routing: RoutingService
    ws_server: Server | None = None
    live: LiveCalls | None = None
    """The live-call list (pages here, pages and deltas over the websocket)."""

    @property
    def ws_port(self) -> int:
        if self.ws_server is not None and self.ws_server.sockets:
            return int(next(iter(self.ws_server.sockets)).getsockname()[1])
        return self.routing.settings.ws_port

    @property
    def tz(self) -> str:
        return self.routing.config.schedule.timezone


LEADER_KEY: web.AppKey[Leader] = web.AppKey("leader", Leader)


def add_leader_routes(app: web.Application, routing: RoutingService, ws_server: Server | None = None) -> None:
    """Add the console and its API to `app` (before its runner is set up). Adding twice is a no-op.

    `ws_server` gives the websocket's real port (the settings say 0 for an ephemeral one).
    """
    if LEADER_KEY in app:
        return
    live = LiveCalls(routing)
    live.start()
    app[LEADER_KEY] = Leader(routing, ws_server, live)

    async def stop_live(_: web.Application) -> None:
        await live.close()

    app.on_cleanup.append(stop_live)  # before the bus and the store close (`Running.close`)
    r = app.router
    add_console_page(app, "leader")
    r.add_get("/api/leader/me", me)
    r.add_get("/api/leader/config", config)
    r.add_get("/api/leader/calls", live_calls)
    r.add_get("/api/leader/calls/{call_id}", call_detail)
    r.add_get("/api/leader/report", report_preview)
    r.add_post("/api/leader/report/send", report_send)
    r.add_post("/api/leader/escalations/{escalation_id}/emergency", emergency_contact)


# -- helpers ----------------------------------------------------------------------------------------


async def _auth(request: web.Request) -> tuple[Leader, Principal]:
    leader = request.app[LEADER_KEY]
    return leader, await require_role(request, leader.routing.hub.store, ROLES)


def _day(leader: Leader, raw: str | None) -> date:
    if not raw:
        return local_day(leader.routing.hub.clock(), leader.tz)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidFormat(f"day {raw!r} is not YYYY-MM-DD") from None


def ws_url(request: web.Request, port: int) -> str:
    """The websocket as the browser reaches it: the host it loaded the page from, the websocket's port."""
    proto = request.headers.get("X-Forwarded-Proto", request.scheme)
    host = request.url.host or "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{'wss' if proto == 'https' else 'ws'}://{host}:{port}/ws"


def _names(pack_names: Any) -> dict[str, dict[str, str]]:
    return {k: dict(v) for k, v in pack_names.items()}


# -- API --------------------------------------------------------------------------------------------


async def me(request: web.Request) -> web.Response:
    _, who = await _auth(request)
    return json_response({"user": who.user, "role": who.role})


async def config(request: web.Request) -> web.Response:
    """Everything the page needs once: where the websocket is, the server's clock, names for ids."""
    leader, who = await _auth(request)
    routing = leader.routing
    pack = routing.hub.desk.pack
    fields: dict[str, dict[str, str]] = {}
    for script in pack.scripts.values():
        for f in script.checklist:
            fields.setdefault(f.id, dict(f.label))
    sched = await rs.schedule(routing.db)
    return json_response(
        {
            "ws_url": routing.hub.settings.public_ws_url or ws_url(request, leader.ws_port),
            "now": routing.hub.clock(),
            "user": who.user,
            "role": who.role,
            "can_open_faults": who.role in FAULT_ROLES,
            "can_edit_faults": who.role in FAULT_CAUSE_ROLES,
            "timezone": leader.tz,
            "report_at": routing.config.schedule.daily_report_at,
            "next_report_at": sched.get("daily_report"),
            "contacts": {c.id: {"name": c.name, "roles": list(c.roles)} for c in routing.directory.contacts.values()},
            "hotlines": [n.to_json() for n in routing.directory.hotlines],
            "categories": _names(pack.category_names),
            "priority": list(pack.priority),
            "fields": fields,
            "unstaffed": unstaffed(routing),
            "emergency_contacts": emergency.contacts_json(routing.directory, routing.hub.clock(), leader.tz),
        }
    )


def unstaffed(routing: RoutingService) -> list[str]:
    """The plan's roles nobody holds today: their escalation steps reach nobody (each is audited `unrouted`)."""
    day = local_day(routing.hub.clock(), routing.config.schedule.timezone)
    roles = [*ROUTED_ROLES, *(("acting_shift_leader",) if routing.directory.is_holiday(day) else ())]
    return [r for r in roles if not routing.directory.on_duty(r, day)]


def _live_json(call: CallState, stored: dict[str, Any] | None) -> dict[str, Any]:
    ctx = call.context
    return {
        "call_id": call.call_id,
        "agent": call.user,
        "context": ctx,
        "queue": ctx.get("queue"),
        "category": call.result.category,
        "labels": list(call.result.labels),
        "started_at": stored["started_at"] if stored else None,
        "live": True,
    }


async def live_calls(request: web.Request) -> web.Response:
    """One page of the calls in progress with their current category, most serious first, then longest
    first (`?limit=` up to 200, default 50; `?after=` the last page's `next`). The console itself
    subscribes over the websocket (`calls.subscribe`) and is sent the changes."""
    leader, _ = await _auth(request)
    assert leader.live is not None
    raw = request.query.get("limit", str(DEFAULT_PAGE))
    if not raw.isdigit() or len(raw) > 6:
        raise InvalidFormat(f"limit {raw[:20]!r} is not a whole number (1-{PAGE_LIMIT})")
    await leader.live.prepare()
    return json_response(leader.live.page(int(raw), request.query.get("after") or None))


async def call_detail(request: web.Request) -> web.Response:
    """One call, live or ended: context, category, the last transcript lines, the agent's records."""
    leader, _ = await _auth(request)
    routing = leader.routing
    call_id = request.match_info["call_id"]
    stored = (await data.calls_by_id(routing.db, [call_id])).get(call_id)
    live = routing.hub.desk.calls.get(call_id)
    if live is not None:
        out = _live_json(live, stored)
        out["notes"] = list(live.notes)
        out["transcript"] = [{"speaker": ln.speaker, "text": ln.text} for ln in live.transcript if ln.final][
            -TRANSCRIPT_TAIL:
        ]
    elif stored is not None:
        out = {
            **stored,
            "live": stored["ended_at"] is None,  # held by another instance on a shared database
            "notes": [],
            "queue": stored["context"].get("queue"),
            "transcript": await data.transcript_tail(routing.db, call_id, TRANSCRIPT_TAIL),
        }
        if out["category"] is None:
            found = await data.last_category(routing.db, call_id)
            out["category"], out["labels"] = found or ("none", [])
    else:
        raise NotFound(f"no call {call_id!r}")
    out["records"] = await data.records_of_call(routing.db, call_id)
    return json_response(out)


async def _facts(leader: Leader, day: date) -> DayFacts:
    """The day's facts with every call's start and category (a live call's current one), for text and chart."""
    return await data.report_facts(leader.routing.db, day, leader.tz, leader.routing.hub.desk.calls)


async def _report(leader: Leader, day: date) -> dict[str, Any]:
    """The preview: the text and every figure drawn from one `report_figures` value."""
    routing = leader.routing
    now = routing.hub.clock()
    facts = await _facts(leader, day)
    fig = report_figures(facts, leader.tz, now)
    sched = await rs.schedule(routing.db)
    return {
        **fig.to_json(),
        "timezone": leader.tz,
        "text": report_text(fig, leader.tz),
        "faults": list(facts.faults),
        "records": len(facts.records),
        "report_at": routing.config.schedule.daily_report_at,
        "next_report_at": sched.get("daily_report"),
    }


async def report_preview(request: web.Request) -> web.Response:
    """The daily report as it would be sent now (?day=YYYY-MM-DD, default today), with the hourly chart data."""
    leader, _ = await _auth(request)
    return json_response(await _report(leader, _day(leader, request.query.get("day"))))


async def report_send(request: web.Request) -> web.Response:
    """Send the report now to the department leaders and the center manager (the scheduled one still goes)."""
    leader, who = await _auth(request)
    body: Any = {}
    if request.can_read_body:
        try:
            body = await request.json()
        except ValueError:
            raise InvalidJSON("the request body is not JSON") from None
    if not isinstance(body, dict):
        raise InvalidFormat("the request body must be a JSON object")
    routing = leader.routing
    day = _day(leader, body.get("day"))
    facts = await _facts(leader, day)
    now = routing.hub.clock()
    eff = manual_report(routing.config, routing.directory, facts, who.user, now)
    await routing.commit(eff)
    contacts = routing.directory.contacts
    return json_response(
        {
            "day": day.isoformat(),
            "sent_at": now,
            "sent_by": who.user,
            "text": eff.events[0]["text"],
            "recipients": [{"id": c, "name": contacts[c].name if c in contacts else c} for c in recipients_of(eff)],
        }
    )


async def emergency_contact(request: web.Request) -> web.Response:
    """Notify the emergency contacts of an urgent complaint through their channels, recorded on the escalation."""
    leader, who = await _auth(request)
    routing = leader.routing
    esc_id = request.match_info["escalation_id"]
    now = routing.hub.clock()
    names = [c.name for c in routing.directory.by_user(who.user)]
    async with routing.lock:
        esc = await rs.load_escalation(routing.db, esc_id)
        if esc is None:
            raise NotFound(f"no escalation {esc_id!r}")
        contacts = emergency.on_duty(routing.directory, now, leader.tz)
        eff = emergency.notify_emergency(esc, contacts, who.user, names[0] if names else who.user, now, leader.tz)
        if eff.writes:
            await routing.commit(eff)
    return json_response({"escalation": esc.to_json()})
