"""Feedback items: an agent's or a shift leader's correction of a call, and what a trainer decides.

An item holds the call's text as the classifier saw it (masked: `assist.feedback.mask`), what the
classifier said and what the person said instead; a trainer accepts it (it becomes a labelled
sample in a pack draft) or rejects it with a reason. Pure: the shell passes `now`, the pack's
categories and what it read from the store, and stores the item this returns.

Kinds and keys (one item per key; sending the same feedback again changes or returns that item):

    category  "category:<call_id>:<user>"       an agent: "the category is wrong, it is this one"
    category  "leader:<escalation_id>"          a leader corrected the category on resolving
    warning   "warning:<call_id>:<index>:<rule>" an agent: "this warning is wrong"
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from assist.classifier.segments import SPEAKERS
from assist.effects import Write
from assist.errors import Conflict, NotFound, ValidationFailed
from assist.feedback.mask import mask_context, mask_text
from assist.live.calls import CallState

Kind = Literal["category", "warning"]
Status = Literal["open", "accepted", "rejected"]
Source = Literal["agent", "leader"]

KINDS: tuple[str, ...] = ("category", "warning")
STATUSES: tuple[str, ...] = ("open", "accepted", "rejected")
NONE = "none"
MAX_COMMENT = 500
MAX_REASON = 500
RECENT_SECONDS = 4 * 3600.0
"""How long after a call ends its agent may still give feedback on it."""


@dataclass(frozen=True, slots=True)
class CallText:
    """A call as the classifier saw it, masked: context fields, notes, transcript lines."""

    context: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    transcript: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "context": dict(self.context),
            "notes": list(self.notes),
            "transcript": [{"speaker": s, "text": t} for s, t in self.transcript],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CallText:
        return cls(
            dict(data.get("context") or {}),
            tuple(str(n) for n in data.get("notes") or ()),
            tuple((str(t["speaker"]), str(t["text"])) for t in data.get("transcript") or ()),
        )


def call_text(context: Mapping[str, Any], notes: Iterable[str], transcript: Iterable[tuple[str, str]]) -> CallText:
    """The masked text of a call (live: from its `CallState`)."""
    return CallText(
        mask_context(context), tuple(mask_text(n) for n in notes if n), tuple((s, mask_text(t)) for s, t in transcript)
    )


def live_text(call: CallState) -> CallText:
    return call_text(call.context, call.notes, [(ln.speaker, ln.text) for ln in call.transcript])


def replay(call_id: str, user: str, context: Mapping[str, Any], events: Iterable[Mapping[str, Any]]) -> CallText:
    """The masked text of a stored call, rebuilt from its events as a restart would rebuild it."""
    call = CallState(call_id=call_id, user=user, context=dict(context))
    for ev in events:
        kind, data = ev["kind"], ev["payload"]
        if kind == "note":
            call.set_note(str(data.get("text", "")))
        elif kind == "transcript" and data.get("speaker") in SPEAKERS:
            call.add_line(data["speaker"], str(data.get("text", "")), bool(data.get("final", True)))
        elif kind == "context":
            call.context = dict(data.get("context", {}))
    return live_text(call)


def item_id(key: str) -> str:
    """Stable id of the item with this key (it is also the id of the sample it may become)."""
    return "fb-" + hashlib.sha256(key.encode()).hexdigest()[:10]


def category_key(call_id: str, user: str) -> str:
    return f"category:{call_id}:{user}"


def leader_key(escalation_id: str) -> str:
    return f"leader:{escalation_id}"


def warning_key(call_id: str, index: int, rule: str) -> str:
    return f"warning:{call_id}:{index}:{rule}"


@dataclass(frozen=True, slots=True)
class FeedbackItem:
    id: str
    key: str
    kind: Kind
    source: Source
    call_id: str
    user: str
    role: str
    created_at: float
    updated_at: float
    pack_version: str
    call: CallText
    predicted: tuple[str, ...]
    """The call's labels when the feedback was given, most serious first."""
    corrected: str = ""
    """Category items: the category the person says is right."""
    rule: str = ""
    """Warning items: the forbidden-phrase rule whose warning is said to be wrong, its line and phrase."""
    line_index: int | None = None
    line_text: str = ""
    phrase: str = ""
    comment: str = ""
    escalation_id: str = ""
    status: Status = "open"
    decided_by: str = ""
    decided_at: float | None = None
    reason: str = ""
    """Why it was rejected (required), or the trainer's note on accepting."""
    labels: tuple[str, ...] = ()
    """Accepted category items: the labels of the sample (the corrected category, or the trainer's edit)."""
    draft_id: int | None = None
    sample_id: str = ""

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "source": self.source,
            "call_id": self.call_id,
            "user": self.user,
            "role": self.role,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "pack_version": self.pack_version,
            "predicted": list(self.predicted),
            "corrected": self.corrected or None,
            "rule": self.rule or None,
            "line_index": self.line_index,
            "line_text": self.line_text or None,
            "phrase": self.phrase or None,
            "comment": self.comment,
            "escalation_id": self.escalation_id or None,
            "status": self.status,
            "decided_by": self.decided_by or None,
            "decided_at": self.decided_at,
            "reason": self.reason or None,
            "labels": list(self.labels),
            "draft_id": self.draft_id,
            "sample_id": self.sample_id or None,
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.summary(), "call": self.call.to_json()}

    def row(self) -> Write:
        return Write(
            "feedback_item",
            {
                "id": self.id,
                "key": self.key,
                "kind": self.kind,
                "source": self.source,
                "call_id": self.call_id,
                "user": self.user,
                "role": self.role,
                "created_at": self.created_at,
                "updated_at": self.updated_at,
                "pack_version": self.pack_version,
                "call": self.call.to_json(),
                "predicted": list(self.predicted),
                "corrected": self.corrected,
                "rule": self.rule,
                "line_index": self.line_index,
                "line_text": self.line_text,
                "phrase": self.phrase,
                "comment": self.comment,
                "escalation_id": self.escalation_id,
                "status": self.status,
                "decided_by": self.decided_by,
                "decided_at": self.decided_at,
                "reason": self.reason,
                "labels": list(self.labels),
                "draft_id": self.draft_id,
                "sample_id": self.sample_id,
            },
        )

    @classmethod
    def from_row(cls, r: Mapping[str, Any]) -> FeedbackItem:
        return cls(
            id=r["id"],
            key=r["key"],
            kind=r["kind"],
            source=r["source"],
            call_id=r["call_id"],
            user=r["user"],
            role=r["role"],
            created_at=float(r["created_at"]),
            updated_at=float(r["updated_at"]),
            pack_version=r["pack_version"],
            call=CallText.from_json(json.loads(r["call"])),
            predicted=tuple(json.loads(r["predicted"])),
            corrected=r["corrected"],
            rule=r["rule"],
            line_index=r["line_index"],
            line_text=r["line_text"],
            phrase=r["phrase"],
            comment=r["comment"],
            escalation_id=r["escalation_id"],
            status=r["status"],
            decided_by=r["decided_by"],
            decided_at=r["decided_at"],
            reason=r["reason"],
            labels=tuple(json.loads(r["labels"])),
            draft_id=r["draft_id"],
            sample_id=r["sample_id"],
        )


# -- giving feedback ----------------------------------------------------------------------------------


def _comment(text: str) -> str:
    text = text.strip()
    if len(text) > MAX_COMMENT:
        raise ValidationFailed(
            f"a comment has at most {MAX_COMMENT} characters", fields={"comment": f"at most {MAX_COMMENT} characters"}
        )
    return mask_text(text)


def check_category(category: str, known: Sequence[str]) -> str:
    if category not in known:
        raise ValidationFailed(f"unknown category {category!r}", fields={"category": f"one of {', '.join(known)}"})
    return category


def _still_open(item: FeedbackItem) -> None:
    if item.status != "open":
        raise Conflict(
            f"feedback {item.id} was already {item.status} by {item.decided_by}; it cannot change now",
            feedback=item.summary(),
        )


def correct_category(
    existing: FeedbackItem | None,
    *,
    key: str,
    source: Source,
    call_id: str,
    user: str,
    role: str,
    category: str,
    known: Sequence[str],
    predicted: Sequence[str],
    call: CallText,
    pack_version: str,
    comment: str,
    now: float,
    escalation_id: str = "",
) -> FeedbackItem:
    """A new category correction, or the changed one (while nobody has decided on it)."""
    check_category(category, known)
    note = _comment(comment)
    if existing is not None:
        _still_open(existing)
    if tuple(predicted) == (category,):
        raise ValidationFailed(
            f"the call is already classified as {category!r} alone; pick the right category",
            fields={"category": "the same as the call's category"},
        )
    if existing is not None:
        return replace(
            existing,
            corrected=category,
            comment=note or existing.comment,
            updated_at=now,
            call=call,
            predicted=tuple(predicted),
            pack_version=pack_version,
        )
    return FeedbackItem(
        id=item_id(key),
        key=key,
        kind="category",
        source=source,
        call_id=call_id,
        user=user,
        role=role,
        created_at=now,
        updated_at=now,
        pack_version=pack_version,
        call=call,
        predicted=tuple(predicted),
        corrected=category,
        comment=note,
        escalation_id=escalation_id,
    )


def report_warning(
    existing: FeedbackItem | None,
    *,
    call_id: str,
    user: str,
    role: str,
    index: int,
    rule: str,
    pushed: Mapping[str, Any] | None,
    predicted: Sequence[str],
    call: CallText,
    pack_version: str,
    comment: str,
    now: float,
) -> FeedbackItem:
    """ "This warning is wrong": `pushed` is the warning the call was actually given (line, rule), or None."""
    note = _comment(comment)
    if pushed is None:
        raise NotFound(f"no warning was given for line {index} by rule {rule!r} on call {call_id!r}")
    if existing is not None:
        if note and note != existing.comment:
            _still_open(existing)
            return replace(existing, comment=note, updated_at=now)
        return existing
    key = warning_key(call_id, index, rule)
    line = call.transcript[index][1] if 0 <= index < len(call.transcript) else ""
    return FeedbackItem(
        id=item_id(key),
        key=key,
        kind="warning",
        source="agent",
        call_id=call_id,
        user=user,
        role=role,
        created_at=now,
        updated_at=now,
        pack_version=pack_version,
        call=call,
        predicted=tuple(predicted),
        rule=rule,
        line_index=index,
        line_text=line,
        phrase=str(pushed.get("phrase", "")),
        comment=note,
    )


# -- a trainer's decision --------------------------------------------------------------------------------


def accepted_labels(item: FeedbackItem, labels: Sequence[str] | None, known: Sequence[str]) -> tuple[str, ...]:
    """The sample's labels: the corrected category unless the trainer edited them; in pack priority order."""
    if item.kind != "category":
        return ()
    chosen = list(dict.fromkeys(labels)) if labels else [item.corrected]
    if not chosen:
        raise ValidationFailed("labels: one category at least", fields={"labels": "one category at least"})
    for c in chosen:
        if c not in known:
            raise ValidationFailed(f"unknown category {c!r}", fields={"labels": f"one of {', '.join(known)}"})
    if NONE in chosen and len(chosen) > 1:
        raise ValidationFailed("'none' stands alone", fields={"labels": "'none' cannot be combined"})
    rank = {c: i for i, c in enumerate(known)}
    return tuple(sorted(chosen, key=lambda c: rank.get(c, len(rank))))


def accept(
    item: FeedbackItem, labels: tuple[str, ...], who: str, now: float, *, draft_id: int, sample_id: str, note: str = ""
) -> FeedbackItem:
    _still_open(item)
    return replace(
        item,
        status="accepted",
        decided_by=who,
        decided_at=now,
        updated_at=now,
        labels=labels,
        draft_id=draft_id,
        sample_id=sample_id,
        reason=_reason(note, required=False),
    )


def reject(item: FeedbackItem, reason: str, who: str, now: float) -> FeedbackItem:
    _still_open(item)
    return replace(
        item, status="rejected", decided_by=who, decided_at=now, updated_at=now, reason=_reason(reason, required=True)
    )


def _reason(text: str, *, required: bool) -> str:
    text = text.strip()
    if required and not text:
        raise ValidationFailed("say why it is rejected", fields={"reason": "required"})
    if len(text) > MAX_REASON:
        raise ValidationFailed(f"at most {MAX_REASON} characters", fields={"reason": f"at most {MAX_REASON}"})
    return text


# -- what an accepted item adds to a pack --------------------------------------------------------------

AGENT_LINES_FILE = "agent_lines.jsonl"
"""Labelled agent lines, when the pack keeps such a file; until then they go to samples.jsonl."""


def why(item: FeedbackItem, who: str) -> str:
    said = f"{item.source} {item.user}"
    if item.kind == "category":
        base = (
            f"floor feedback {item.id} ({said}, call {item.call_id}): predicted {'+'.join(item.predicted)}, "
            f"corrected {item.corrected}"
        )
    else:
        base = (
            f"floor feedback {item.id} ({said}, call {item.call_id}): warning {item.rule} on line "
            f"{item.line_index} is wrong"
        )
    if item.comment:
        base += f" — {item.comment}"
    return f"{base}; accepted by {who}"


def sample_for(item: FeedbackItem, labels: Sequence[str], who: str) -> dict[str, Any]:
    """A category item as a samples.jsonl line (the pack's sample shape)."""
    c = item.call.to_json()
    return {
        "id": item.id,
        "context": c["context"],
        "notes": c["notes"],
        "transcript": c["transcript"],
        "labels": list(labels),
        "why": why(item, who),
    }


def agent_line_for(item: FeedbackItem, who: str, *, in_samples: bool) -> dict[str, Any]:
    """A warning item as a labelled agent line: not forbidden, for `rule`.

    In samples.jsonl it is marked `"kind": "agent_line"`, and carries `"labels": ["none"]` only because
    the sample loader requires labels (as a call it has no transcript, so it always classifies as none).
    """
    line: dict[str, Any] = {
        "id": item.id,
        "kind": "agent_line",
        "text": item.line_text,
        "forbidden": False,
        "rule": item.rule,
    }
    if in_samples:
        line["labels"] = [NONE]
    line["why"] = why(item, who)
    return line


def append_line(text: str, record: Mapping[str, Any]) -> str:
    """`text` (a JSON-lines file) with `record` added as its last line."""
    sep = "\n" if text and not text.endswith("\n") else ""
    return f"{text}{sep}{json.dumps(record, ensure_ascii=False)}\n"


def has_line(text: str, record_id: str) -> bool:
    """Whether a JSON-lines file already holds a record with this id (an accept retried after a failure)."""
    for line in text.splitlines():
        if record_id in line:
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(data, dict) and data.get("id") == record_id:
                return True
    return False


def recent(ended_at: float | None, now: float) -> bool:
    """A call an agent may still give feedback on: live, or ended within `RECENT_SECONDS`."""
    return ended_at is None or now - ended_at <= RECENT_SECONDS
