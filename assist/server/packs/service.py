"""The pack lifecycle's shell: drafts and audit in the store, compiled packs cached, publish -> live agents.

`assist.scripts.lifecycle` decides what is allowed; this class loads and saves, compiles
packs off the event loop (a whole pack takes ~0.5 s to parse and compile, and live calls share
the loop), runs sample sets as pollable jobs, and on publish or rollback saves a new version and
puts it in force through `Hub.use_pack`, which pushes `assist.update` to live sidebars. On a database
several instances share, it then tells the others (`PACK` on the hub's bus), and each of them puts the
store's version in force the same way (`follow`); a missed notice is made good on the bus's resync and by a
check every `FOLLOW_EVERY` seconds.

A trainer's save is the frequent case and must answer fast (docs/performance.md): the edit is
applied and checked in the edit worker process, and every file is parsed and compiled once per
text (`self.files`), so a save reads only the file it changed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import itertools
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from assist import protocol
from assist.classifier.segments import call_segments
from assist.errors import Conflict, InvalidFormat, NotFound, ValidationFailed
from assist.live.whole_call import parse_call
from assist.problems import PackError, Problem
from assist.scripts import lifecycle as lc
from assist.scripts.file_cache import FileCache
from assist.scripts.pack import ALL_FILES, Pack, load_pack, with_models
from assist.scripts.pack_diff import FileDiff, diff_packs, summary
from assist.scripts.pack_edit import Edit, EditError, structured
from assist.server.cluster import RESYNC
from assist.server.packs import store as ps
from assist.server.packs.edit_worker import EditWorker, edit_and_check
from assist.server.packs.training import ModelTrainer
from assist.server.packs.try_worker import TryTimedOut, TryWorker
from assist.server.store import Store

log = logging.getLogger(__name__)

ALLOWED_FILES = ALL_FILES
PACK = "pack"
"""Cluster topic: a version was published or rolled back (payload `{"version": n}`, a hint: the receiver puts
the store's latest published version in force, whatever the notice says)."""
FOLLOW_EVERY = 30.0
"""Seconds between two checks, on a shared database, that the version in force is the store's (a safety net
under the notices)."""
MAX_FILE_CHARS = 2_000_000


def files_digest(files: Mapping[str, str]) -> str:
    """Same hash as `Pack.digest`, without compiling the pack."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    return h.hexdigest()[:12]


UNKNOWN_MODEL = b"\0unknown"
"""What `_model_in_force` says when the store's version is not the one in force: never equal to a stored artifact."""


def _model_key(model: bytes | None) -> str:
    return hashlib.sha256(model).hexdigest() if model is not None else ""


def problem_json(p: Problem) -> dict[str, Any]:
    return {"file": p.file, "line": p.line, "field": p.dotted, "message": p.message, "text": str(p)}


MAX_TRY_NOTES = 20
MAX_TRY_LINES = 200
"""A try is one call: its notes and transcript lines each within the websocket's limits, and no more of them
than a long call has (the default pack's samples have at most 5 notes and 14 lines)."""


def check_call(call: Any) -> None:
    """A try's call within the limits a live call has on the websocket (docs/protocol.md §5); raises
    InvalidFormat for a malformed call and ValidationFailed (`details.field` names the part) for a big one."""
    try:
        context, notes, lines = parse_call(call)
    except ValueError as exc:
        raise InvalidFormat(str(exc)) from None
    if len(notes) > MAX_TRY_NOTES:
        raise ValidationFailed(f"notes: at most {MAX_TRY_NOTES}", field="notes")
    if len(lines) > MAX_TRY_LINES:
        raise ValidationFailed(f"transcript: at most {MAX_TRY_LINES} lines", field="transcript")
    parts: list[tuple[str, protocol.Command]] = [("context", protocol.CallStart(call_id="try", context=context))]
    parts += [(f"notes[{i}]", protocol.CallNote(call_id="try", text=note)) for i, note in enumerate(notes)]
    parts += [
        (f"transcript[{i}].text", protocol.CallTranscript(call_id="try", speaker="agent", text=text))
        for i, (_speaker, text) in enumerate(lines)
    ]
    for name, part in parts:
        try:
            part.check()
        except ValidationFailed as exc:
            raise ValidationFailed(f"{name}: {exc.message}", field=name) from None


def check_files(files: Any) -> dict[str, str]:
    """Uploaded or edited files: only pack files, text, not huge."""
    if not isinstance(files, Mapping) or not files:
        raise InvalidFormat("files: an object {file name: text}")
    out: dict[str, str] = {}
    for name, text in files.items():
        if name not in ALLOWED_FILES:
            raise InvalidFormat(f"{name!r} is not a pack file; expected {', '.join(ALLOWED_FILES)}")
        if not isinstance(text, str) or len(text) > MAX_FILE_CHARS:
            raise InvalidFormat(f"{name}: text of at most {MAX_FILE_CHARS} characters")
        out[str(name)] = text
    return out


class DraftFiles:
    """The files of the drafts last read or saved, by revision (`ps.KnownFiles`): a save neither decodes
    nor re-reads the ~2 MB files column of the draft it edits."""

    def __init__(self, keep: int = 4) -> None:
        self.keep = keep
        self._items: OrderedDict[int, tuple[int, Mapping[str, str]]] = OrderedDict()

    def get(self, draft_id: int, revision: int) -> Mapping[str, str] | None:
        found = self._items.get(draft_id)
        if found is None or found[0] != revision:
            return None
        self._items.move_to_end(draft_id)
        return found[1]

    def held(self, draft_id: int) -> tuple[int, Mapping[str, str]] | None:
        """The revision of the draft last read or saved, and its files."""
        return self._items.get(draft_id)

    def put(self, draft_id: int, revision: int, files: Mapping[str, str]) -> None:
        self._items[draft_id] = (revision, files)
        self._items.move_to_end(draft_id)
        while len(self._items) > self.keep:
            self._items.popitem(last=False)


@dataclass
class Job:
    id: str
    draft_id: int
    total: int = 0
    done: int = 0
    result: dict[str, Any] | None = None
    error: str | None = None
    started_at: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        state = "failed" if self.error else "done" if self.result is not None else "running"
        return {
            "job": self.id,
            "draft_id": self.draft_id,
            "state": state,
            "total": self.total,
            "done": self.done,
            "result": self.result,
            "error": self.error,
        }


@dataclass
class PackWorkers:
    """The pack service's worker processes: the edit worker (a trainer's saves) and the try worker. A service
    makes its own and closes them; one passed in is the caller's to close (the test suite shares one set across
    the services it starts, as it shares its trainer: each process start imports the pack compiler)."""

    edits: EditWorker = field(default_factory=EditWorker)
    tries: TryWorker = field(default_factory=TryWorker)

    def close(self) -> None:
        self.edits.close()
        self.tries.close()


class PackService:
    def __init__(
        self,
        store: Store,
        hub: Any,
        policy: lc.Policy,
        clock: Callable[[], float] = time.time,
        trainer: ModelTrainer | None = None,
        try_timeout: float = 10.0,
        workers: PackWorkers | None = None,
    ) -> None:
        self.store = store
        self.hub = hub
        self.policy = policy
        self.clock = clock
        self.trainer = trainer or ModelTrainer()
        self._built: OrderedDict[str, tuple[Pack, bytes]] = OrderedDict()
        self.lock = asyncio.Lock()
        self.jobs: OrderedDict[str, Job] = OrderedDict()
        self._packs: OrderedDict[str, Pack | PackError] = OrderedDict()
        self._job_ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._views: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.files = FileCache()
        """Each pack file parsed and compiled once per text: a save re-reads only the file it changed."""
        self.owns_workers = workers is None
        self.workers = workers or PackWorkers()
        self.worker = self.workers.edits
        self.tries = self.workers.tries
        """Classifies a trainer's try in a process of its own, stopped after `try_timeout` seconds."""
        self.try_timeout = try_timeout
        self._checked: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
        """Problems of files the edit worker compiled, by files digest (a form's reload needs no compile)."""
        self._with_models: OrderedDict[tuple[str, str], Pack] = OrderedDict()
        self._model_of: tuple[str, bytes | None] = ("", None)
        """(version in force, its stored model artifact), read from the store when the version changes."""
        self.draft_files = DraftFiles()
        self._versions: OrderedDict[int, dict[str, str]] = OrderedDict()
        self._published_labels: tuple[Pack | None, dict[str, tuple[str, tuple[str, ...]]]] = (None, {})
        """The pack in force and its labels of the samples run so far (a back-test, then the publish gate)."""
        self._gate_results: OrderedDict[tuple[str, str], lc.SampleResult] = OrderedDict()
        """The publish gate's judgement of recent drafts, by (draft files, pack in force): readiness, submit
        and publish of an unchanged draft judge its samples once."""

    # -- compiled packs ----------------------------------------------------------------------------

    def digest(self, files: Mapping[str, str]) -> str:
        """`files_digest`, remembered: hashing the ~2 MB of a pack several times a save held the loop."""
        key = ("digest", tuple(sorted(files.items())))
        return self.files.memo(key, lambda: files_digest(files))

    async def compile(self, files: Mapping[str, str]) -> Pack | PackError:
        digest = self.digest(files)
        found = self._packs.get(digest)
        if found is None:
            found = await asyncio.to_thread(_load, dict(files), self.files)
            self._packs[digest] = found
            while len(self._packs) > 6:
                self._packs.popitem(last=False)
        self._packs.move_to_end(digest)
        return found

    async def valid(self, files: Mapping[str, str]) -> Pack:
        """The pack with its trained models (trained in a worker process, once per set of training files)."""
        return (await self.built(files))[0]

    async def built(self, files: Mapping[str, str]) -> tuple[Pack, bytes]:
        """The valid pack with its models, and the model artifact to store with a version."""
        pack = await self.compile(files)
        if isinstance(pack, PackError):
            raise Conflict(
                f"the pack has {len(pack.problems)} problem(s); fix them first",
                problems=[problem_json(p) for p in pack.problems],
            )
        digest = pack.digest
        found = self._built.get(digest)
        if found is None:
            try:
                artifact = await self.trainer.train(files)
            except PackError as exc:
                raise Conflict(
                    f"the model cannot be trained: {exc}", problems=[problem_json(p) for p in exc.problems]
                ) from None
            except RuntimeError as exc:  # the worker died (out of memory, killed): say so, the next try starts anew
                log.error("packs: %s", exc)
                raise Conflict(str(exc)) from None
            found = (await asyncio.to_thread(with_models, pack, artifact), artifact)
            self._built[digest] = found
            while len(self._built) > 4:
                self._built.popitem(last=False)
        self._built.move_to_end(digest)
        return found

    async def view(self, files: Mapping[str, str]) -> dict[str, Any]:
        """The files as data for the console's forms, with their problems (cached: forms reload often)."""
        digest = self.digest(files)
        found = self._views.get(digest)
        if found is None:
            data = await asyncio.to_thread(structured, dict(files), self.files)
            found = {"structured": data, "problems": await self.problems(files), "digest": digest}
            self._views[digest] = found
            while len(self._views) > 6:
                self._views.popitem(last=False)
        return found

    async def changes(self, before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
        """The audit trail's lines for a change: only the files whose text differs are read."""
        diffs = await asyncio.to_thread(partial(diff_packs, dict(before), dict(after), self.files, unified=False))
        return summary(diffs)

    async def diff(self, before: Mapping[str, str], after: Mapping[str, str]) -> list[FileDiff]:
        """What changed, item by item and as a text diff, for a reviewer."""
        return await asyncio.to_thread(diff_packs, dict(before), dict(after), self.files)

    async def problems(self, files: Mapping[str, str]) -> list[dict[str, Any]]:
        checked = self._checked.get(self.digest(files))
        if checked is not None:
            return checked
        pack = await self.compile(files)
        return [problem_json(p) for p in pack.problems] if isinstance(pack, PackError) else []

    # -- versions ----------------------------------------------------------------------------------

    async def published(self) -> tuple[int, dict[str, str]]:
        version = await ps.current_version(self.store.db)
        if version is None:
            raise NotFound("no pack has been published yet")
        return version, await self.version_files(version)

    async def published_pack(self) -> Pack | None:
        """The pack in force, as live calls use it (models included), for comparisons in back-tests."""
        pack = getattr(self.hub.desk, "pack", None)
        return pack if isinstance(pack, Pack) else None

    async def versions(self) -> list[dict[str, Any]]:
        rows = await ps.versions(self.store.db)
        in_force = self.hub.desk.pack_version
        for r in rows:
            r["in_force"] = f"v{r['version']}" == in_force
        return rows

    async def version_files(self, version: int) -> dict[str, str]:
        """A version's files (a copy), decoded once: a version never changes, and decoding its ~2 MB of JSON
        holds the loop ~15 ms (a draft is made from the version in force)."""
        files = self._versions.get(version)
        if files is None:
            files = await ps.version_files(self.store.db, version)
            if files is None:
                raise NotFound(f"no pack version {version}")
            self._versions[version] = files
            while len(self._versions) > 4:
                self._versions.popitem(last=False)
        self._versions.move_to_end(version)
        return dict(files)

    # -- drafts ------------------------------------------------------------------------------------

    async def drafts(self, open_only: bool = True) -> list[lc.Draft]:
        found = await ps.drafts(self.store.db, open_only, self.draft_files)
        for draft, revision in found:
            self.draft_files.put(draft.id, revision, draft.files)
        return [draft for draft, _ in found]

    async def draft(self, draft_id: int) -> lc.Draft:
        found = await ps.draft(self.store.db, draft_id, self.draft_files)
        if found is None:
            raise NotFound(f"no draft {draft_id}")
        draft, revision = found
        self.draft_files.put(draft.id, revision, draft.files)
        return draft

    async def create_draft(
        self, user: str, files: Mapping[str, str] | None = None, *, source: str = "published", note: str = ""
    ) -> lc.Draft:
        async with self.lock:
            version, published = await self.published()
            new_id = await ps.next_draft_id(self.store.db)
            draft, audit = lc.new_draft(
                new_id, version, files if files is not None else published, user, self.clock(), note=note, source=source
            )
            if files is not None:
                changes = await self.changes(published, files)
                audit = dataclasses.replace(audit, detail={**audit.detail, "changes": changes})
            await self._save(draft, audit, insert=True)
            self.worker.warm(draft.files)  # saves follow: the worker reads the files meanwhile
            return draft

    async def edit(
        self, draft_id: int, user: str, *, files: Mapping[str, str] | None = None, edits: Sequence[Edit] = ()
    ) -> lc.Draft:
        async with self.lock:
            draft = await self.draft(draft_id)
            new_files = dict(draft.files)
            if files is not None:
                new_files.update(files)
            if edits:
                try:
                    new_files = await self._edited(new_files, edits)
                except EditError as exc:
                    raise InvalidFormat(str(exc)) from None
            if new_files == dict(draft.files):
                return draft
            changes = await self.changes(draft.files, new_files)
            new, audit = lc.edit(draft, new_files, user, self.clock(), changes)
            await self._save(new, audit)
            return new

    async def _edited(self, files: dict[str, str], edits: Sequence[Edit]) -> dict[str, str]:
        """Edits applied and the result checked in the edit worker (in a thread if the worker cannot run);
        what it parsed is learnt here, so the answer's forms, diff and problems parse nothing again."""
        if not self.worker.ready:  # still starting (a second or two): this save is done here, as quick
            self.worker.warm(files)
            edited = await asyncio.to_thread(edit_and_check, self.files, files, list(edits))
        else:
            try:
                edited = await self.worker.edit(files, edits)
            except RuntimeError as exc:  # the worker died: this save is done here, the next starts a new one
                log.error("packs: %s", exc)
                edited = await asyncio.to_thread(edit_and_check, self.files, files, list(edits))
        for name, data in edited.data.items():
            self.files.learn(edited.changed[name], data)
        new = {**files, **edited.changed}
        self._checked[self.digest(new)] = [problem_json(p) for p in edited.problems]
        while len(self._checked) > 6:
            self._checked.popitem(last=False)
        return new

    async def submit(self, draft_id: int, user: str) -> lc.Draft:
        checked = await self.draft(draft_id)
        samples = await self.run_samples(checked.files)  # outside the lock, as in publish
        async with self.lock:
            draft = await self.draft(draft_id)
            if draft.files != checked.files:
                raise Conflict("the draft changed while it was being checked; submit again")
            new, audit = lc.submit(draft, user, len(await self.problems(draft.files)), samples, self.clock())
            await self._save(new, audit)
            return new

    async def approve(self, draft_id: int, user: str) -> lc.Draft:
        async with self.lock:
            new, audit = lc.approve(await self.draft(draft_id), user, self.clock())
            await self._save(new, audit)
            return new

    async def discard(self, draft_id: int, user: str) -> lc.Draft:
        async with self.lock:
            new, audit = lc.discard(await self.draft(draft_id), user, self.clock())
            await self._save(new, audit)
            return new

    async def rebase(self, draft_id: int, user: str) -> lc.Draft:
        async with self.lock:
            draft = await self.draft(draft_id)
            version, published = await self.published()
            base = await self.version_files(draft.base_version) if draft.base_version is not None else {}
            new, audit = lc.rebase(draft, base, published, version, user, self.clock())
            await self._save(new, audit)
            return new

    async def blockers(self, draft: lc.Draft) -> tuple[list[str], lc.SampleResult | None]:
        version, _ = await self.published()
        problems = len(await self.problems(draft.files))
        samples = await self.run_samples(draft.files) if not problems else None
        return lc.publish_blockers(draft, self.policy, version, problems, samples), samples

    async def publish(self, draft_id: int, user: str) -> tuple[lc.Draft, int]:
        # The slow part (validation and every sample) runs before taking the lock, so a rollback in
        # an incident never waits behind it; under the lock the draft must still be what was checked.
        checked = await self.draft(draft_id)
        problems = len(await self.problems(checked.files))
        samples = await self.run_samples(checked.files) if not problems else None
        async with self.lock:
            draft = await self.draft(draft_id)
            if draft.files != checked.files:
                raise Conflict("the draft changed while it was being checked; publish again")
            version_now, published = await self.published()
            blockers = lc.publish_blockers(draft, self.policy, version_now, problems, samples)
            if blockers:
                raise Conflict("not ready to publish: " + "; ".join(blockers), blockers=blockers)
            pack, model = await self.built(draft.files)
            pack = await self._classifying_as_now(pack, model)
            now = self.clock()
            # One transaction: the new version with its models, the draft marked published and the audit entry.
            changes = await self.changes(published, draft.files)
            async with self.store.unit() as db:
                version = await ps.save_version(
                    db, pack.id, pack.version, pack.digest, draft.files, "published", user, now, model=model
                )
                new, audit = lc.publish(draft, user, version, now)
                audit = dataclasses.replace(audit, detail={**audit.detail, "changes": changes})
                revision = await ps.save_draft(db, new, audit, part=self._json_part, held=self.draft_files.held(new.id))
            self.draft_files.put(new.id, revision, new.files)
            await self._tell_others(version)
            await self._keep_replaced()
            await self.hub.use_pack(pack, f"v{version}")
            return new, version

    async def rollback(self, target: int, user: str) -> int:
        async with self.lock:
            files = await self.version_files(target)
            # The version's own models come back with it: a rollback is fast and restores what ran then.
            model = await ps.model(self.store.db, target)
            loaded = await self._stored_pack(files, model)
            if isinstance(loaded, PackError):
                raise Conflict(f"version {target} no longer loads: {loaded}")
            pack = await self._classifying_as_now(loaded, model)
            if pack.model_problem:
                log.warning("packs: v%d rolled back without its model: %s", target, pack.model_problem)
            now = self.clock()
            async with self.store.unit() as db:
                version = await ps.save_version(
                    db, pack.id, pack.version, pack.digest, files, "published", user, now, model=model
                )
                await ps.add_audit(db, lc.rollback(target, version, user, now))
            await self._tell_others(version)
            await self._keep_replaced()
            await self.hub.use_pack(pack, f"v{version}")
            return version

    # -- the other instances on the same database ----------------------------------------------------

    async def _tell_others(self, version: int) -> None:
        """After the version is committed, before this instance's own re-decision (which waits for its pushes
        to leave): the others start theirs at the same time."""
        bus = getattr(self.hub, "bus", None)
        if bus is not None and bus.shared:
            await bus.publish(PACK, {"version": version})

    async def follow(self, why: str) -> bool:
        """Put the store's version in force when it is not already (another instance published or rolled
        back): compiled with its stored models as a rollback is, and handed to the hub, which pushes every
        sidebar here exactly as a publish here does. Whether it changed the version in force (logged with
        `why` it was checked)."""
        async with self.lock:
            latest = await ps.current_version(self.store.db)
            if latest is None or f"v{latest}" == self.hub.desk.pack_version:
                return False
            files = await self.version_files(latest)
            model = await ps.model(self.store.db, latest)
            loaded = await self._stored_pack(files, model)
            if isinstance(loaded, PackError):
                log.error("packs: v%d, in force on another instance, does not load here: %s", latest, loaded)
                return False
            pack = await self._classifying_as_now(loaded, model)
            log.info("packs: v%d was put in force on another instance; following it (%s)", latest, why)
            await self._keep_replaced()
            await self.hub.use_pack(pack, f"v{latest}")
            return True

    def listen(self) -> None:
        """Follow the other instances' publishes: on their notice, on the bus's resync, and every
        `FOLLOW_EVERY` seconds (`keep_following`). Nothing on a database this instance has alone."""

        async def told(_: Mapping[str, Any]) -> None:
            await self.follow("told by another instance")

        async def resync(_: Mapping[str, Any]) -> None:
            await self.follow("notices may have been missed")

        bus = self.hub.bus
        bus.on(PACK, told)
        bus.on(RESYNC, resync)

    async def keep_following(self, every: float = FOLLOW_EVERY) -> None:
        """The safety net under the notices: a version the store has had in force since the previous check
        and this instance still has not (its notice was lost) is followed. Two sightings, so a notice on
        its way always comes first."""
        stale: int | None = None
        while True:
            await asyncio.sleep(every)
            try:
                latest = await ps.current_version(self.store.db)
                if latest is None or f"v{latest}" == self.hub.desk.pack_version:
                    stale = None
                elif stale is None or latest != stale:
                    stale = latest
                else:
                    await self.follow("a notice was missed: the periodic check")
                    stale = None
            except Exception:
                log.exception("packs: could not check the version in force")

    async def _with_model(self, pack: Pack, model: bytes | None) -> Pack:
        """`pack` with this model artifact (decoded once per pack and artifact: rolling back and forth is cheap)."""
        key = (pack.digest, _model_key(model))
        found = self._with_models.get(key)
        if found is None:
            found = await asyncio.to_thread(with_models, pack, model)
        self._keep_with_model(key, found)
        return found

    def _keep_with_model(self, key: tuple[str, str], pack: Pack) -> None:
        self._with_models[key] = pack
        self._with_models.move_to_end(key)
        while len(self._with_models) > 4:
            self._with_models.popitem(last=False)

    async def _stored_pack(self, files: Mapping[str, str], model: bytes | None) -> Pack | PackError:
        """A stored version's pack with its model artifact, to put in force: one this instance already holds
        (it had it in force, or `warm_previous` loaded it) is taken as it is — it loaded then, and a version
        never changes — so an incident's rollback compiles nothing; otherwise compiled once, model added."""
        key = (self.digest(files), _model_key(model))
        found = self._with_models.get(key)
        if found is not None:
            self._keep_with_model(key, found)
            return found
        checked = await self.compile(files)
        return checked if isinstance(checked, PackError) else await self._with_model(checked, model)

    async def _keep_replaced(self) -> None:
        """Before a new pack is put in force: keep the one in force with its stored model (no extra memory
        while it is cached), so that rolling forward to it again (after an incident's rollback) compiles nothing."""
        pack = self.hub.desk.pack
        model = await self._model_in_force()
        if isinstance(pack, Pack) and model != UNKNOWN_MODEL:
            self._keep_with_model((pack.digest, _model_key(model)), pack)

    async def warm_previous(self) -> None:
        """Load the version in force before the current one (with its model) in the background after a start:
        the rollback an incident calls for then compiles nothing (≈0.5 s of CPU, most of a rollback's wait
        on an idle instance). Costs the memory of one more compiled pack."""
        in_force = self.hub.desk.pack_version
        digest = getattr(self.hub.desk.pack, "digest", "")
        for row in await ps.versions(self.store.db):
            if row["status"] == "published" and f"v{row['version']}" != in_force and row["digest"] != digest:
                files = await self.version_files(int(row["version"]))
                await self._stored_pack(files, await ps.model(self.store.db, int(row["version"])))
                return

    async def _classifying_as_now(self, pack: Pack, model: bytes | None) -> Pack:
        """`pack` with the classifier in force when the two would classify every call alike (the same
        compiled rules and priority, the same model artifact and settings): a publish that changes only
        scripts, wording or firing then keeps every live call's scans and decisions, and only its
        sidebar is updated (`Desk.switch_pack`). Otherwise `pack` as it is: every live call is re-decided."""
        live: Pack = self.hub.desk.pack
        new, old = pack.classifier, live.classifier
        if new is old:
            return pack
        if pack.priority != live.priority or new.settings != old.settings or (new.model is None) != (old.model is None):
            return pack
        if model != await self._model_in_force():
            return pack
        same_rules = new.rules is old.rules or await asyncio.to_thread(lambda: new.rules == old.rules)
        return dataclasses.replace(pack, classifier=old) if same_rules else pack

    async def _model_in_force(self) -> bytes | None:
        """The stored model artifact of the version in force (remembered per version)."""
        in_force = self.hub.desk.pack_version
        if self._model_of[0] != in_force:
            current = await ps.current(self.store.db)
            self._model_of = (f"v{current[0]}", current[2]) if current is not None else ("", None)
            if self._model_of[0] != in_force:
                return UNKNOWN_MODEL
        return self._model_of[1]

    async def audit(self, limit: int = 200, draft_id: int | None = None) -> list[dict[str, Any]]:
        return await ps.audit(self.store.db, limit, draft_id)

    async def _save(self, draft: lc.Draft, audit: lc.Audit, *, insert: bool = False) -> None:
        """The draft's row and its audit entry, in one transaction."""
        async with self.store.unit() as db:
            revision = await ps.save_draft(
                db,
                draft,
                audit,
                insert=insert,
                part=self._json_part,
                held=None if insert else self.draft_files.held(draft.id),
            )
        self.draft_files.put(draft.id, revision, draft.files)

    def _json_part(self, text: str) -> str:
        """A file's text as JSON, encoded once per text (a new draft's column reuses the parts of the last)."""
        return self.files.memo(("json text", text), partial(json.dumps, text, ensure_ascii=False))

    # -- trying and samples ------------------------------------------------------------------------

    async def try_published(self, call: Any) -> dict[str, Any]:
        """`try_call` with the pack in force: the live desk has it compiled and the store has its model, so
        nothing is compiled or trained in this process for it."""
        check_call(call)
        current = await ps.current(self.store.db)
        if current is None:
            raise NotFound("no pack has been published yet")
        _version, files, model = current
        in_force = getattr(self.hub.desk, "pack", None)
        if isinstance(in_force, Pack) and in_force.digest == self.digest(files):
            return await self._try(in_force, files, model, call)
        return await self.try_call(files, call)

    async def try_call(self, files: Mapping[str, str], call: Any) -> dict[str, Any]:
        """Classify one call with these files' pack, as a live call would be: within the websocket's limits
        (`check_call`), in the try worker process, stopped after `try_timeout` seconds."""
        check_call(call)
        pack, artifact = await self.built(files)
        return await self._try(pack, files, artifact, call)

    async def _try(self, pack: Pack, files: Mapping[str, str], artifact: bytes | None, call: Any) -> dict[str, Any]:
        numbers = tuple(c.number for c in pack.internal_contacts) + tuple(getattr(self.hub, "directory_numbers", ()))
        key = hashlib.sha256("\0".join((pack.digest, *numbers)).encode()).hexdigest()[:16]
        try:
            result: dict[str, Any] = await self.tries.classify(
                key, lambda: (dict(files), artifact, numbers), call, self.try_timeout
            )
        except ValueError as exc:
            raise InvalidFormat(str(exc)) from None
        except TryTimedOut:
            raise ValidationFailed(
                f"the call took more than {self.try_timeout:g} s to classify and was stopped; try a shorter one",
                field="call",
            ) from None
        except RuntimeError as exc:  # the worker died (out of memory, killed): the next try starts a new one
            log.error("packs: %s", exc)
            raise Conflict(str(exc)) from None
        lang = pack.default_language
        result["category_name"] = pack.category_name(result["category"], lang)
        result["label_names"] = [pack.category_name(x, lang) for x in result["labels"]]
        return result

    async def run_samples(
        self, files: Mapping[str, str], job: Job | None = None, *, cross_validate: bool = False
    ) -> lc.SampleResult:
        """Every sample against the draft and the published pack; with `cross_validate` (the trainer's
        back-test, not the publish gate) also k-fold held-out scores of the draft's model."""
        draft = await self.valid(files)
        published = await self.published_pack()
        cv: Mapping[str, Mapping[str, float]] | None = None
        if cross_validate and draft.has_model:
            cv = await self.trainer.cross_validate(files)
        known = None
        if published is not None:
            if self._published_labels[0] is not published:
                self._published_labels = (published, {})
            known = self._published_labels[1]
        gate = job is None and cv is None  # the gate's judgement: a function of the two packs alone
        key = (draft.digest, published.digest if published is not None else "")
        if gate and key in self._gate_results:
            self._gate_results.move_to_end(key)
            return self._gate_results[key]
        result = await asyncio.to_thread(_judge, draft, published, self.policy, job, cv, known)
        if gate:
            self._gate_results[key] = result
            while len(self._gate_results) > 4:
                self._gate_results.popitem(last=False)
        return result

    def start_samples(self, draft_id: int, files: Mapping[str, str]) -> Job:
        job = Job(f"j{next(self._job_ids)}", draft_id)
        self.jobs[job.id] = job
        while len(self.jobs) > 20:
            self.jobs.popitem(last=False)

        async def run() -> None:
            try:
                job.result = (await self.run_samples(files, job, cross_validate=True)).to_json()
            except Conflict as exc:
                job.error = exc.message
            except Exception as exc:  # reported to the trainer through the job, not lost in a task
                job.error = f"internal error: {exc}"

        task = asyncio.get_running_loop().create_task(run(), name=f"samples-{job.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    def job(self, job_id: str) -> Job:
        found = self.jobs.get(job_id)
        if found is None:
            raise NotFound(f"no job {job_id!r} (jobs are kept for the last 20 runs)")
        return found


def _load(files: dict[str, str], cache: FileCache) -> Pack | PackError:
    try:
        return load_pack(files, cache=cache)
    except PackError as exc:
        return exc


def _judge(
    draft: Pack,
    published: Pack | None,
    policy: lc.Policy,
    job: Job | None,
    cv: Mapping[str, Mapping[str, float]] | None = None,
    known: dict[str, tuple[str, tuple[str, ...]]] | None = None,
) -> lc.SampleResult:
    """Run in a worker thread; `job.done` is read by the poller while this runs.

    `known`: the published pack's labels of samples it already classified ({id: (the sample's
    fingerprint, labels)}), kept by the service for as long as that pack is in force: a back-test and then the
    publish gate classify each sample under the pack in force once.

    The published pack's samples count too (the draft's copy of a sample wins), so deleting the
    samples a change breaks does not get it past the gate. Each draft sample is also scored by
    the rules alone, the model alone and combined, and with held-out scores when `cv` has them.
    """
    own = {str(c.get("id")) for c in draft.samples}
    samples = [
        c
        for c in (*draft.samples, *(c for c in (published.samples if published else ()) if str(c.get("id")) not in own))
        if c.get("kind", "call") == "call"
    ]
    if job is not None:
        job.total = len(samples)
    gold: dict[str, tuple[str, ...]] = {}
    before: dict[str, tuple[str, ...]] = {}
    after: dict[str, tuple[str, ...]] = {}
    parts: dict[str, dict[str, tuple[str, ...]]] = {name: {} for name in PARTS}
    errors: dict[str, str] = {}
    for n, call in enumerate(samples, start=1):
        call_id = str(call.get("id") or f"line {n}")
        gold[call_id] = tuple(str(x) for x in call.get("labels", ()))
        try:
            segments = call_segments(*parse_call(dict(call)))
            mine = draft.classifier.parts(segments)
            after[call_id] = mine.combined.labels
            if published is None:
                before[call_id] = after[call_id]
            else:
                seen = _fingerprint(call) if known is not None else ""
                hit = known.get(call_id) if known is not None else None
                if hit is not None and hit[0] == seen:
                    before[call_id] = hit[1]
                else:
                    before[call_id] = published.classifier.classify(segments).labels
                    if known is not None:
                        known[call_id] = (seen, before[call_id])

            if str(call.get("id")) in own:
                parts["rules"][call_id] = mine.rules.labels
                parts["combined"][call_id] = mine.combined.labels
                if mine.model is not None:
                    parts["model"][call_id] = mine.model
                held_out = cv.get(call_id) if cv is not None else None
                if held_out is not None:
                    honest = draft.classifier.parts(segments, held_out)
                    parts["cv_model"][call_id] = honest.model or ("none",)
                    parts["cv_combined"][call_id] = honest.combined.labels
        except ValueError as exc:
            errors[call_id] = str(exc)
        if job is not None:
            job.done = n
    return lc.judge_samples(gold, before, after, policy, draft.priority, errors, parts)


def _fingerprint(call: Mapping[str, Any]) -> str:
    """A sample's content, short: the same id with other text or labels is classified again."""
    return hashlib.blake2b(json.dumps(call, ensure_ascii=False, sort_keys=True).encode(), digest_size=16).hexdigest()


PARTS = ("rules", "model", "combined", "cv_model", "cv_combined")
