"""The script-pack lifecycle as pure rules: draft -> submitted -> approved -> published, and rollback.

Trainers are not programmers, so the rules protect them: a pack reaches live agents only
when it validates, its labelled samples do not get worse, and a second trainer (not one who
edited it) approved it. Every step returns the new draft state plus an audit entry; the
shell stores both. No I/O and no clock here: callers pass `now`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from assist.classifier.scoring import Change, Report, changes, score
from assist.errors import Conflict, Unauthorized

Status = Literal["editing", "submitted", "published", "discarded"]


@dataclass(frozen=True, slots=True)
class Policy:
    """How strict publishing is; every center can tune it (docs/trainer.md)."""

    approvals_required: int = 1
    """Approvals by trainers who did not edit the draft; 0 lets a small center publish alone."""
    min_accuracy: float | None = None
    """Minimum primary accuracy on the samples (0..1); None = only "no regression"."""
    allow_regressions: bool = False
    """Whether a sample the published pack got right may go wrong (a deliberate trade-off)."""


@dataclass(frozen=True, slots=True)
class Audit:
    at: float
    user: str
    action: str
    draft_id: int | None = None
    version: int | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Draft:
    id: int
    base_version: int | None
    files: Mapping[str, str]
    author: str
    created_at: float
    updated_at: float
    status: Status = "editing"
    editors: tuple[str, ...] = ()
    approvals: tuple[str, ...] = ()
    note: str = ""
    published_version: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "base_version": self.base_version,
            "author": self.author,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "status": self.status,
            "editors": list(self.editors),
            "approvals": list(self.approvals),
            "note": self.note,
            "published_version": self.published_version,
        }


@dataclass(frozen=True, slots=True)
class SampleResult:
    """A draft's samples run against the draft and against the published pack."""

    report: Report
    published: Report
    changed: tuple[Change, ...]
    errors: Mapping[str, str]
    gate: tuple[str, ...]
    """Why the samples block publishing; empty = they pass."""
    parts: Mapping[str, Report] = field(default_factory=dict)
    """The draft's samples scored by each part: `rules`, `model` and `combined` (the model was trained
    on these samples: a fit, not an accuracy), and, when the back-test ran cross-validation,
    `cv_model` and `cv_combined` (each sample scored by a model that never saw it)."""

    @property
    def passed(self) -> bool:
        return not self.gate

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.report.total,
            "accuracy": self.report.primary_accuracy,
            "published_accuracy": self.published.primary_accuracy,
            "categories": [
                {
                    "category": c.category,
                    "precision": c.precision,
                    "recall": c.recall,
                    "true_pos": c.true_pos,
                    "false_pos": c.false_pos,
                    "false_neg": c.false_neg,
                }
                for c in self.report.categories
            ],
            "misses": [{"id": m.id, "gold": list(m.gold), "predicted": list(m.predicted)} for m in self.report.misses],
            "changed": [
                {
                    "id": c.id,
                    "gold": list(c.gold),
                    "before": list(c.before),
                    "after": list(c.after),
                    "fixed": c.fixed,
                    "broken": c.broken,
                }
                for c in self.changed
            ],
            "errors": dict(self.errors),
            "passed": self.passed,
            "gate": list(self.gate),
            "parts": {name: report_json(r) for name, r in self.parts.items()},
        }


def report_json(r: Report) -> dict[str, Any]:
    """A report's figures for the console: accuracy, macro-F1 over categories and each category."""
    cats = [c for c in r.categories if c.true_pos + c.false_pos + c.false_neg]
    return {
        "total": r.total,
        "accuracy": r.primary_accuracy,
        "macro_f1": sum(c.f1 for c in cats) / len(cats) if cats else 0.0,
        "categories": [
            {"category": c.category, "precision": c.precision, "recall": c.recall, "f1": c.f1} for c in r.categories
        ],
    }


def judge_samples(
    gold: Mapping[str, Sequence[str]],
    published: Mapping[str, Sequence[str]],
    draft: Mapping[str, Sequence[str]],
    policy: Policy,
    categories: Sequence[str],
    errors: Mapping[str, str] | None = None,
    parts: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
) -> SampleResult:
    """Score the draft, compare with the published pack on the same samples, apply the gate."""
    errors = dict(errors or {})
    report = score(gold, draft, categories)
    before = score(gold, published, categories)
    changed = tuple(changes(gold, published, draft))
    gate: list[str] = []
    if errors:
        gate.append(f"{len(errors)} sample(s) could not be run: " + ", ".join(sorted(errors)[:5]))
    broken = [c.id for c in changed if c.broken]
    if broken and not policy.allow_regressions:
        gate.append(f"{len(broken)} sample(s) the published pack got right are now wrong: " + ", ".join(broken[:10]))
    if policy.min_accuracy is not None and report.total and report.primary_accuracy < policy.min_accuracy:
        gate.append(f"accuracy {report.primary_accuracy:.1%} is below the required {policy.min_accuracy:.1%}")
    scored = {
        name: score({k: v for k, v in gold.items() if k in pred}, pred, categories)
        for name, pred in (parts or {}).items()
        if pred
    }
    return SampleResult(report, before, changed, errors, tuple(gate), scored)


def new_draft(
    draft_id: int,
    base_version: int | None,
    files: Mapping[str, str],
    user: str,
    now: float,
    *,
    note: str = "",
    source: str = "published",
) -> tuple[Draft, Audit]:
    draft = Draft(draft_id, base_version, dict(files), user, now, now, editors=(user,), note=note)
    return draft, Audit(now, user, "draft.create", draft_id, base_version, {"from": source})


def edit(
    draft: Draft, files: Mapping[str, str], user: str, now: float, summary: Sequence[str] = ()
) -> tuple[Draft, Audit]:
    """Any change sends the draft back to editing and withdraws its approvals: they were for other text."""
    _open(draft)
    editors = draft.editors if user in draft.editors else (*draft.editors, user)
    new = replace(draft, files=dict(files), status="editing", approvals=(), editors=editors, updated_at=now)
    detail: dict[str, Any] = {"changes": list(summary)}
    if draft.approvals:
        detail["approvals_withdrawn"] = list(draft.approvals)
    return new, Audit(now, user, "draft.edit", draft.id, None, detail)


def submit(draft: Draft, user: str, problems: int, samples: SampleResult | None, now: float) -> tuple[Draft, Audit]:
    """Ask for approval; only a valid draft whose samples pass can be submitted."""
    _open(draft)
    if draft.status == "submitted":
        raise Conflict("this draft is already waiting for approval")
    _ready(problems, samples)
    return replace(draft, status="submitted", updated_at=now), Audit(now, user, "draft.submit", draft.id)


def approve(draft: Draft, user: str, now: float) -> tuple[Draft, Audit]:
    if draft.status != "submitted":
        raise Conflict("only a draft submitted for approval can be approved")
    if user in draft.editors:
        raise Unauthorized("you changed this draft: another trainer must approve it")
    if user in draft.approvals:
        raise Conflict("you have already approved this draft")
    return (
        replace(draft, approvals=(*draft.approvals, user), updated_at=now),
        Audit(now, user, "draft.approve", draft.id),
    )


def publish_blockers(
    draft: Draft, policy: Policy, published_version: int | None, problems: int, samples: SampleResult | None
) -> list[str]:
    """Everything that still stands between this draft and live agents (empty = it may go out)."""
    out: list[str] = []
    if draft.status in ("published", "discarded"):
        return [f"this draft is {draft.status}"]
    if policy.approvals_required > 0 and draft.status != "submitted":
        out.append("submit the draft for approval first")
    if len(draft.approvals) < policy.approvals_required:
        out.append(f"needs {policy.approvals_required} approval(s) by another trainer; has {len(draft.approvals)}")
    if published_version is not None and draft.base_version is not None and draft.base_version != published_version:
        out.append(
            f"the published pack changed since this draft started (v{draft.base_version} -> "
            f"v{published_version}); update the draft from the published pack first"
        )
    if problems:
        out.append(f"the pack has {problems} problem(s); fix them first")
    if samples is None:
        out.append("run the samples first")
    else:
        out.extend(samples.gate)
    return out


def publish(draft: Draft, user: str, version: int, now: float) -> tuple[Draft, Audit]:
    detail = {"approved_by": list(draft.approvals)}
    return (
        replace(draft, status="published", published_version=version, updated_at=now),
        Audit(now, user, "pack.publish", draft.id, version, detail),
    )


def discard(draft: Draft, user: str, now: float) -> tuple[Draft, Audit]:
    _open(draft)
    return replace(draft, status="discarded", updated_at=now), Audit(now, user, "draft.discard", draft.id)


def rebase(
    draft: Draft, base: Mapping[str, str], published: Mapping[str, str], published_version: int, user: str, now: float
) -> tuple[Draft, Audit]:
    """Bring a stale draft up to the published pack, file by file; a file both sides changed is a conflict."""
    _open(draft)
    files = dict(draft.files)
    conflicts = []
    for name in sorted(set(base) | set(published) | set(files)):
        mine, theirs, old = files.get(name), published.get(name), base.get(name)
        if mine == old:
            if theirs is None:
                files.pop(name, None)
            else:
                files[name] = theirs
        elif theirs != old and theirs != mine:
            conflicts.append(name)
    if conflicts:
        raise Conflict(
            "both this draft and the published pack changed "
            + ", ".join(conflicts)
            + "; start a new draft and copy your changes into it",
            files=conflicts,
        )
    new = replace(draft, files=files, base_version=published_version, status="editing", approvals=(), updated_at=now)
    return new, Audit(now, user, "draft.rebase", draft.id, published_version)


def rollback(target_version: int, new_version: int, user: str, now: float) -> Audit:
    """Rollback publishes an old version's files as a new version, so history only ever grows.

    It needs no second approval: the files were approved when first published, and during an
    incident restoring a known-good pack must take one click.
    """
    return Audit(now, user, "pack.rollback", None, new_version, {"restored": target_version})


def _open(draft: Draft) -> None:
    if draft.status in ("published", "discarded"):
        raise Conflict(f"this draft is {draft.status}; start a new draft")


def _ready(problems: int, samples: SampleResult | None) -> None:
    if problems:
        raise Conflict(f"the pack has {problems} problem(s); fix them before submitting")
    if samples is not None and samples.gate:
        raise Conflict("the samples do not pass: " + "; ".join(samples.gate))
