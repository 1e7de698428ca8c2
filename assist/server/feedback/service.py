"""The feedback shell: agents' `feedback.*` commands, a leader's correction on resolve, the trainers' queue.

The pure decisions are `assist.feedback.items`; this reads what they need (the live call from the
desk, or the stored call, the warnings it was given), stores the item durably and only then
acknowledges. A trainer's accept appends the item to a pack draft through `PackService` (one line of
samples.jsonl, or of the agent-lines file when the pack keeps one) and marks the item accepted.

Wiring (app.py): `feedback = start_feedback(hub, routing)` after routing is installed,
`add_feedback_routes(app, feedback)` with the other routes, `await feedback.close()` on shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from assist import messages, protocol
from assist.effects import Write
from assist.errors import Conflict, NotFound, ValidationFailed
from assist.feedback import commands as c
from assist.feedback import items as fi
from assist.feedback.agreement import agreement, since
from assist.routing.escalation import Escalation
from assist.scripts import lifecycle as lc
from assist.scripts.pack import Pack
from assist.scripts.pack_model import SAMPLES_FILE
from assist.server.feedback import store as fs
from assist.server.live.ws import Connection, Handler, Hub
from assist.server.routing.service import RoutingService
from assist.session import Principal

if TYPE_CHECKING:
    from assist.server.packs.service import PackService

log = logging.getLogger(__name__)

DEFAULT_TIMEZONE = "Asia/Shanghai"


def start_feedback(hub: Hub, routing: RoutingService | None = None) -> FeedbackService:
    """Add feedback's commands to `hub` (and leaders' corrections to `routing`)."""
    service = FeedbackService(hub, routing)
    service.start()
    return service


class FeedbackService:
    def __init__(self, hub: Hub, routing: RoutingService | None = None) -> None:
        self.hub = hub
        self.routing = routing
        self.lock = asyncio.Lock()
        self.closed = False

    @property
    def db(self) -> Any:
        return self.hub.store.db

    @property
    def timezone(self) -> str:
        return self.routing.config.schedule.timezone if self.routing is not None else DEFAULT_TIMEZONE

    @property
    def pack(self) -> Pack:
        pack: Pack = self.hub.desk.pack
        return pack

    def start(self) -> None:
        handlers: dict[type[protocol.Command], Handler] = {
            c.FeedbackGet: self._get,
            c.FeedbackCategory: self._category,
            c.FeedbackWarning: self._warning,
        }
        self.hub.add_commands(c.COMMANDS, handlers)
        if self.routing is not None:
            self.routing.correct_category = self.leader_correction

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.routing is not None and self.routing.correct_category == self.leader_correction:
            self.routing.correct_category = None

    # -- the call behind a feedback ----------------------------------------------------------------

    async def _call(self, call_id: str, who: Principal | None, now: float) -> tuple[fi.CallText, tuple[str, ...]]:
        """The call's masked text and labels. With `who` (an agent), only their live or recently ended call."""
        live = self.hub.desk.calls.get(call_id)
        mine = who is None or who.role == "admin"
        if live is not None and (mine or (who is not None and live.user == who.user)):
            return fi.live_text(live), tuple(live.result.labels)
        stored = await fs.stored_call(self.db, call_id)
        if stored is None or not (mine or (who is not None and stored["user"] == who.user)):
            raise NotFound(f"no call {call_id!r} of yours")
        if who is not None and not fi.recent(stored["ended_at"], now):
            raise NotFound(
                f"call {call_id!r} ended more than {fi.RECENT_SECONDS / 3600:g} hours ago; "
                "feedback is for live or recently ended calls"
            )
        return fi.replay(call_id, stored["user"], stored["context"], stored["events"]), tuple(stored["labels"])

    def _names(self, lang: str) -> list[dict[str, str]]:
        pack = self.pack
        return [{"id": cat, "name": pack.category_name(cat, lang)} for cat in pack.priority]

    # -- agent commands ----------------------------------------------------------------------------

    async def _get(self, conn: Connection, cmd: c.FeedbackGet, now: float) -> None:
        p = _principal(conn)
        await self._call(cmd.call_id, p, now)
        mine = [i for i in await fs.call_items(self.db, cmd.call_id) if i.user == p.user and i.source == "agent"]
        category = next((i for i in mine if i.kind == "category"), None)
        conn.send(
            messages.result(
                cmd.id,
                {
                    "call_id": cmd.call_id,
                    "categories": self._names(p.lang),
                    "category": None
                    if category is None
                    else {"feedback_id": category.id, "category": category.corrected, "status": category.status},
                    "warnings": [
                        {"feedback_id": i.id, "index": i.line_index, "rule": i.rule, "status": i.status}
                        for i in mine
                        if i.kind == "warning"
                    ],
                },
            )
        )

    async def _category(self, conn: Connection, cmd: c.FeedbackCategory, now: float) -> None:
        p = _principal(conn)
        fi.check_category(cmd.category, self.pack.priority)
        async with self.lock:
            text, predicted = await self._call(cmd.call_id, p, now)
            key = fi.category_key(cmd.call_id, p.user)
            existing = await fs.item_by_key(self.db, key)
            item = fi.correct_category(
                existing,
                key=key,
                source="agent",
                call_id=cmd.call_id,
                user=p.user,
                role=p.role,
                category=cmd.category,
                known=self.pack.priority,
                predicted=predicted,
                call=text,
                pack_version=self.hub.desk.pack_version,
                comment=cmd.comment,
                now=now,
            )
            await self.hub.store.write([item.row()])
        conn.send(messages.result(cmd.id, {"feedback": self._reply(item, p.lang), "changed": existing is not None}))

    async def _warning(self, conn: Connection, cmd: c.FeedbackWarning, now: float) -> None:
        p = _principal(conn)
        async with self.lock:
            text, predicted = await self._call(cmd.call_id, p, now)
            pushed = await fs.pushed_warning(self.db, cmd.call_id, cmd.index, cmd.rule)
            existing = await fs.item_by_key(self.db, fi.warning_key(cmd.call_id, cmd.index, cmd.rule))
            item = fi.report_warning(
                existing,
                call_id=cmd.call_id,
                user=p.user,
                role=p.role,
                index=cmd.index,
                rule=cmd.rule,
                pushed=pushed,
                predicted=predicted,
                call=text,
                pack_version=self.hub.desk.pack_version,
                comment=cmd.comment,
                now=now,
            )
            if item is not existing:
                await self.hub.store.write([item.row()])
        conn.send(messages.result(cmd.id, {"feedback": self._reply(item, p.lang), "duplicate": existing is not None}))

    def _reply(self, item: fi.FeedbackItem, lang: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "feedback_id": item.id,
            "kind": item.kind,
            "call_id": item.call_id,
            "status": item.status,
            "predicted": list(item.predicted),
        }
        if item.kind == "category":
            out.update(category=item.corrected, category_name=self.pack.category_name(item.corrected, lang))
        else:
            out.update(index=item.line_index, rule=item.rule)
        return out

    # -- a shift leader's correction on resolve ------------------------------------------------------

    async def leader_correction(
        self, esc: Escalation, category: str, who: Principal, now: float
    ) -> tuple[list[Write], dict[str, Any] | None]:
        """Rows to store with the resolution; None when the category is the one the call already had."""
        fi.check_category(category, self.pack.priority)
        call_id = esc.subject.get("call_id")
        if not isinstance(call_id, str) or not call_id:
            raise ValidationFailed(
                "this escalation has no call whose category could be corrected",
                fields={"category": "the escalation has no call"},
            )
        text, predicted = await self._call(call_id, None, now)
        if predicted == (category,):
            return [], None
        key = fi.leader_key(esc.id)
        item = fi.correct_category(
            await fs.item_by_key(self.db, key),
            key=key,
            source="leader",
            call_id=call_id,
            user=who.user,
            role=who.role,
            category=category,
            known=self.pack.priority,
            predicted=predicted,
            call=text,
            pack_version=self.hub.desk.pack_version,
            comment="",
            now=now,
            escalation_id=esc.id,
        )
        return [item.row()], self._reply(item, who.lang)

    # -- the trainers' queue -------------------------------------------------------------------------

    async def items(self, status: str, kind: str, limit: int) -> tuple[list[fi.FeedbackItem], int]:
        return await fs.list_items(self.db, status, kind, limit), await fs.count_open(self.db)

    async def item(self, item_id: str) -> fi.FeedbackItem:
        found = await fs.load_item(self.db, item_id)
        if found is None:
            raise NotFound(f"no feedback {item_id!r}")
        return found

    async def reject(self, item_id: str, who: str, reason: str, now: float) -> fi.FeedbackItem:
        async with self.lock:
            item = fi.reject(await self.item(item_id), reason, who, now)
            await self.hub.store.write([item.row()])
            return item

    async def accept(
        self,
        item_id: str,
        who: str,
        packs: PackService,
        now: float,
        *,
        labels: Sequence[str] | None = None,
        note: str = "",
        draft_id: int | None = None,
    ) -> tuple[fi.FeedbackItem, lc.Draft, str]:
        """Append the item to a draft (the given one, the trainer's newest open one, or a new one from the
        published pack) and mark it accepted. Returns the item, the draft and the file that got the line."""
        async with self.lock:
            item = await self.item(item_id)
            if item.status != "open":
                raise Conflict(
                    f"feedback {item.id} was already {item.status} by {item.decided_by}", feedback=item.summary()
                )
            draft = await self._draft_for(packs, who, draft_id)
            compiled = await packs.compile(draft.files)
            known = compiled.priority if isinstance(compiled, Pack) else self.pack.priority
            chosen = fi.accepted_labels(item, labels, known)
            if item.kind == "category":
                name, record = SAMPLES_FILE, fi.sample_for(item, chosen, who)
            else:
                name = fi.AGENT_LINES_FILE if fi.AGENT_LINES_FILE in draft.files else SAMPLES_FILE
                record = fi.agent_line_for(item, who, in_samples=name == SAMPLES_FILE)
            text = draft.files.get(name, "")
            if not fi.has_line(text, item.id):  # an accept retried after a failed store write adds nothing twice
                draft = await packs.edit(draft.id, who, files={name: fi.append_line(text, record)})
            accepted = fi.accept(item, chosen, who, now, draft_id=draft.id, sample_id=item.id, note=note)
            await self.hub.store.write([accepted.row()])
            return accepted, draft, name

    async def _draft_for(self, packs: PackService, who: str, draft_id: int | None) -> lc.Draft:
        if draft_id is not None:
            draft = await packs.draft(draft_id)
            if draft.status not in ("editing", "submitted"):
                raise Conflict(f"draft {draft_id} is {draft.status}; pick an open draft")
            return draft
        for d in await packs.drafts():
            if d.status == "editing" and (d.author == who or who in d.editors):
                return d
        return await packs.create_draft(who, note="feedback")

    async def agreement(self, days: int, now: float) -> dict[str, Any]:
        tz = self.timezone
        start = since(now, days, tz)
        calls = await fs.classified_calls(self.db, start)
        corrected = await fs.corrected_calls(self.db, start)
        return agreement(calls, corrected, now=now, days=days, tz=tz, priority=self.pack.priority)


def _principal(conn: Connection) -> Principal:
    p = conn.session.principal
    assert p is not None
    return p
