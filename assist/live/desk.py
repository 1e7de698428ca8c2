"""The call desk: every live call and the pack in force. Commands in, outcomes out.

Pure: the shell passes `now` and the caller, and carries out the returned outcome —
first the store writes (durably, before anything is acknowledged), then the reply,
then the pushes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from assist import messages, protocol
from assist.classifier.model import NONE, Classification
from assist.effects import Outcome, Push, Write
from assist.errors import Conflict, NotFound
from assist.live.calls import CallState
from assist.live.guidance import Guidance
from assist.scripts.pack import Pack
from assist.session import Principal

_METHODS: Mapping[type[protocol.Command], str] = MappingProxyType(
    {
        protocol.Ping: "ping",
        protocol.CallStart: "start",
        protocol.CallNote: "note",
        protocol.CallTranscript: "transcript",
        protocol.CallEnd: "end",
        protocol.CallGet: "get",
    }
)
"""Which method runs each live-call command."""


@dataclass
class Desk:
    pack: Pack
    pack_version: str
    calls: dict[str, CallState] = field(default_factory=dict)
    """Every live call here by id: read it freely, change it only through `take` and `forget`."""
    fired: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    """Per live call, when each warning (`warn:<rule>`) and category prompt (`prompt:<category>`) last drew the
    agent's attention: what the pack's firing controls (`firing.yaml`) are checked against."""
    _guidance: Guidance = field(init=False, repr=False)
    """What the sidebar shows, built once per label set for the pack in force (`update_message`)."""
    _held: dict[str, int] = field(default_factory=dict, init=False, repr=False)
    """Live calls per user, kept as calls come and go (`take`, `forget`): the per-agent cap is checked on every
    call.start, and counting the desk's calls there cost O(live calls) per start."""

    def __post_init__(self) -> None:
        self._guidance = Guidance(self.pack)

    # -- the live calls ---------------------------------------------------------------------------

    def held_by(self, user: str) -> int:
        """How many live calls `user` holds here."""
        return self._held.get(user, 0)

    def take(self, call: CallState) -> None:
        """Hold `call` live (replacing a call of the same id)."""
        self.forget(call.call_id)
        self.calls[call.call_id] = call
        self._held[call.user] = self._held.get(call.user, 0) + 1

    def forget(self, call_id: str) -> CallState | None:
        """Let a live call go without ending it (another instance holds it, or its change was not stored); what
        its warnings and prompts fired stays in `fired` for the caller to keep or drop."""
        call = self.calls.pop(call_id, None)
        if call is not None:
            left = self._held.get(call.user, 0) - 1
            if left > 0:
                self._held[call.user] = left
            else:
                self._held.pop(call.user, None)
        return call

    # -- commands ---------------------------------------------------------------------------------

    def handle(self, who: Principal, cmd: protocol.Command, now: float) -> Outcome:
        """Run one live-call command (its type picks the method; the hub has checked the caller's role)."""
        call_id = getattr(cmd, "call_id", None)
        live = self.calls.get(call_id) if isinstance(call_id, str) else None
        if live is not None and live.user == who.user:
            live.last_at = now
        method: Callable[[Principal, Any, float], Outcome] | None = getattr(self, _METHODS.get(type(cmd), ""), None)
        if method is None:
            raise NotFound(f"no handler for {type(cmd).__name__}")
        return method(who, cmd, now)

    def ping(self, who: Principal, cmd: protocol.Ping, now: float) -> Outcome:
        return Outcome(reply={"pong": True})

    def note(self, who: Principal, cmd: protocol.CallNote, now: float) -> Outcome:
        call = self._live(who, cmd.call_id)
        call.set_note(cmd.text)
        out = Outcome(writes=[self._event(call, "note", {"text": cmd.text}, now)])
        self._reclassify(call, who.lang, now, out)
        out.reply = {"category": call.result.category, "labels": list(call.result.labels)}
        return out

    def transcript(self, who: Principal, cmd: protocol.CallTranscript, now: float) -> Outcome:
        call = self._live(who, cmd.call_id)
        index = call.add_line(cmd.speaker, cmd.text, cmd.final)
        out = Outcome(
            writes=[
                self._event(
                    call,
                    "transcript",
                    {"speaker": cmd.speaker, "text": cmd.text, "final": cmd.final, "index": index},
                    now,
                )
            ]
        )
        self._reclassify(call, who.lang, now, out)
        warnings = self._check_agent_line(call, index, who.lang, now, out) if cmd.speaker == "agent" else []
        out.reply = {
            "index": index,
            "category": call.result.category,
            "labels": list(call.result.labels),
            "warnings": warnings,
        }
        return out

    def end(self, who: Principal, cmd: protocol.CallEnd, now: float) -> Outcome:
        out = self._end(self._live(who, cmd.call_id), cmd.disposition, now)
        out.reply = {"call_id": cmd.call_id, "category": out.writes[0].row["category"]}
        return out

    def get(self, who: Principal, cmd: protocol.CallGet, now: float) -> Outcome:
        return Outcome(reply={"update": self.update_message(self._live(who, cmd.call_id), who.lang)})

    def start(self, who: Principal, cmd: protocol.CallStart, now: float) -> Outcome:
        """Start a call, or resume it: the same agent re-sending call.start after a reconnect."""
        existing = self.calls.get(cmd.call_id)
        out = Outcome()
        if existing is not None:
            if existing.user != who.user:
                raise Conflict(f"call {cmd.call_id!r} is taken by another agent")
            if cmd.context and cmd.context != existing.context:
                existing.context = {**existing.context, **cmd.context}
                out.writes.append(self._event(existing, "context", {"context": existing.context}, now))
                self._reclassify(existing, who.lang, now, out)
            update = self.update_message(existing, who.lang)
            out.reply = {"call_id": cmd.call_id, "resumed": True, "update": update}
            out.pushes.append(Push(cmd.call_id, update))
            return out
        call = CallState(call_id=cmd.call_id, user=who.user, context=dict(cmd.context), last_at=now)
        self.take(call)
        out.writes.append(
            Write("call_start", {"call_id": call.call_id, "user": who.user, "context": call.context, "started_at": now})
        )
        call.classify(self.pack.classifier, self.pack.priority)
        self._record_classification(call, now, out)
        update = self.update_message(call, who.lang, alert=self._prompt(call, (), now))
        out.reply = {"call_id": call.call_id, "resumed": False, "update": update}
        out.pushes.append(Push(call.call_id, update))
        return out

    # -- restore and pack changes -----------------------------------------------------------------

    def expire(self, now: float, idle_seconds: float) -> Outcome:
        """End calls nobody has touched for `idle_seconds` (a softphone that vanished mid-call)."""
        out = Outcome()
        for call in [c for c in self.calls.values() if now - c.last_at >= idle_seconds]:
            ended = self._end(call, "abandoned", now)
            out.writes.extend(ended.writes)
            out.pushes.extend(ended.pushes)
        return out

    def restore(
        self, call_id: str, user: str, context: Mapping[str, Any], events: Iterable[Mapping[str, Any]], now: float
    ) -> CallState:
        """Take a live call back from its stored events (after a restart, a resume), without new writes."""
        call = self.rebuild(call_id, user, context, events, now)
        self.take(call)
        return call

    def view(
        self, who: Principal, call_id: str, stored: tuple[Mapping[str, Any], Iterable[Mapping[str, Any]]] | None
    ) -> CallState:
        """`call.get` of a live call another instance holds: the call as stored (`Store.live_call`), rebuilt
        for the reply but not taken (the holder goes on changing it); refused as `get` refuses a call it holds."""
        _may_see(who, call_id, None if stored is None else stored[0]["user"])
        assert stored is not None
        meta, events = stored
        return self.rebuild(call_id, meta["user"], meta["context"], events, 0.0)

    def rebuild(
        self, call_id: str, user: str, context: Mapping[str, Any], events: Iterable[Mapping[str, Any]], now: float
    ) -> CallState:
        """A live call as its stored events left it, decided under the pack in force; not in the desk."""
        call = CallState(call_id=call_id, user=user, context=dict(context), last_at=now)
        for ev in events:
            kind, data = ev["kind"], ev["payload"]
            if kind == "note":
                call.set_note(str(data.get("text", "")))
            elif kind == "transcript":
                call.add_line(data["speaker"], str(data.get("text", "")), bool(data.get("final", True)))
            elif kind == "context":
                call.context = dict(data.get("context", {}))
            elif kind == "labels":
                call.result = Classification(data["labels"][0], tuple(data["labels"]), ())
            elif kind == "warning":
                call.warned.add((int(data["index"]), str(data["rule"])))
        call.classify(self.pack.classifier, self.pack.priority)
        return call

    def use_pack(self, pack: Pack, version: str, lang_of: Mapping[str, str], now: float) -> Outcome:
        """Switch to a new pack; every live call is re-decided, recorded, and its watchers get an update."""
        redecide = self.switch_pack(pack, version)
        return self.redecide(list(self.calls), lang_of, now, rescan=redecide)

    def switch_pack(self, pack: Pack, version: str) -> bool:
        """Put a new pack in force; whether live calls must be re-decided under it (False when it keeps the
        classifier in force: every scan and decision stands, only the sidebars change)."""
        redecide = pack.classifier is not self.pack.classifier
        self.pack, self.pack_version = pack, version
        return redecide

    def redecide(
        self, call_ids: Iterable[str], lang_of: Mapping[str, str], now: float, *, rescan: bool, push_all: bool = True
    ) -> Outcome:
        """After `switch_pack`: these live calls re-decided (when `rescan`) and recorded, and their watchers
        updated — every call's, or with `push_all=False` only those whose labels the re-decision changed.
        Calls that ended meanwhile are skipped (the shell goes through live calls a slice at a time)."""
        out = Outcome()
        for call_id in call_ids:
            call = self.calls.get(call_id)
            if call is None:
                continue
            before = call.result.labels
            if rescan:
                call.classify(self.pack.classifier, self.pack.priority)  # rescans: the classifier is new
                self._record_classification(call, now, out)
            if push_all or call.result.labels != before:
                out.pushes.append(Push(call.call_id, self.update_message(call, lang_of.get(call.user, ""))))
        return out

    def update_message(self, call: CallState, lang: str, *, alert: bool = False) -> dict[str, Any]:
        """The sidebar's view of the call; `alert` says whether it should draw the agent's eye (a category
        newly on the call, within the pack's firing controls) or update quietly."""
        if self._guidance.pack is not self.pack:  # a new pack (`switch_pack`, or the directory's numbers)
            self._guidance = Guidance(self.pack)
        update = self._guidance.update(self.pack_version, call.call_id, call.context, call.result, lang)
        update["alert"] = alert
        return update

    # -- internals --------------------------------------------------------------------------------

    def _end(self, call: CallState, disposition: str, now: float) -> Outcome:
        call.ended = True
        call.disposition = disposition
        self.forget(call.call_id)
        self.fired.pop(call.call_id, None)
        return Outcome(
            writes=[
                Write(
                    "call_end",
                    {
                        "call_id": call.call_id,
                        "ended_at": now,
                        "disposition": disposition,
                        "category": call.result.category,
                        "labels": list(call.result.labels),
                    },
                )
            ],
            pushes=[Push(call.call_id, messages.call_ended(call.call_id))],
        )

    def _live(self, who: Principal, call_id: str) -> CallState:
        call = self.calls.get(call_id)
        _may_see(who, call_id, None if call is None else call.user)
        assert call is not None
        return call

    def _event(self, call: CallState, kind: str, payload: Mapping[str, Any], now: float) -> Write:
        return Write("call_event", {"call_id": call.call_id, "kind": kind, "payload": dict(payload), "at": now})

    def _reclassify(self, call: CallState, lang: str, now: float, out: Outcome) -> None:
        before = call.result.labels
        call.classify(self.pack.classifier, self.pack.priority)
        if call.result.labels != before:
            self._record_classification(call, now, out)
            alert = self._prompt(call, before, now)
            out.pushes.append(Push(call.call_id, self.update_message(call, lang, alert=alert)))

    def _prompt(self, call: CallState, before: tuple[str, ...], now: float) -> bool:
        """Whether a change of labels draws the agent's eye: a category new on the call whose prompt the
        firing controls allow now (each such category's prompt counts as fired)."""
        fired = self.fired.setdefault(call.call_id, {})
        alert = False
        for label in call.result.labels:
            if label == NONE or label in before:
                continue
            times = fired.setdefault(f"prompt:{label}", [])
            if self.pack.firing.for_category(label).allows(times, now):
                times.append(now)
                alert = True
        return alert

    def _record_classification(self, call: CallState, now: float, out: Outcome) -> None:
        r = call.result
        out.writes.append(self._event(call, "labels", {"labels": list(r.labels)}, now))
        out.writes.append(
            Write(
                "classification",
                {
                    "call_id": call.call_id,
                    "category": r.category,
                    "labels": list(r.labels),
                    "evidence": [e.to_json() for e in r.evidence],
                    "pack_version": self.pack_version,
                    "at": now,
                },
            )
        )

    def _check_agent_line(
        self, call: CallState, index: int, lang: str, now: float, out: Outcome
    ) -> list[dict[str, Any]]:
        """Every forbidden phrase of the agent's line is stored and listed in the reply; each rule found warns
        with one `assist.warning` listing all its phrases in the line, unless the pack's firing controls hold
        it back (then the reply marks its phrases `held`)."""
        media = any(lb.startswith("media.") for lb in call.result.labels)
        by_rule: dict[str, list[dict[str, Any]]] = {}
        for hit in self.pack.forbidden.check(call.transcript[index].text, media=media, lang=lang):
            by_rule.setdefault(hit.rule, []).append(hit.to_json())
        found: list[dict[str, Any]] = []
        fired = self.fired.setdefault(call.call_id, {})
        for rule, hits in by_rule.items():
            key = (index, rule)
            if key in call.warned:  # this line already warned for this rule (an interim line made final)
                found.extend(hits)
                continue
            call.warned.add(key)
            times = fired.setdefault(f"warn:{rule}", [])
            held = not self.pack.firing.for_rule(rule).allows(times, now)
            if not held:
                times.append(now)
                phrases = [{"phrase": h["phrase"], "span": h["span"]} for h in hits]
                out.pushes.append(
                    Push(call.call_id, messages.assist_warning(call.call_id, index, {**hits[0], "phrases": phrases}))
                )
            for h in hits:
                out.writes.append(self._event(call, "warning", {"index": index, **h}, now))
                out.writes.append(Write("warning", {"call_id": call.call_id, "index": index, **h, "at": now}))
                found.append({**h, "held": held})
        return found


def _may_see(who: Principal, call_id: str, owner: str | None) -> None:
    """A live call is its agent's (and an admin's): anyone else is told it does not exist, as for no call."""
    if owner is None or (owner != who.user and who.role != "admin"):
        raise NotFound(f"no live call {call_id!r}; send call.start first")
