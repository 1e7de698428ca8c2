"""A trainer's save reads only what it changed, and says the same as a whole re-read would (issue 10)."""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import aiohttp

from assist.app import Running
from assist.config import DEFAULT_PACK
from assist.scripts.file_cache import FileCache, parse
from assist.scripts.pack import check_pack, load_pack, read_pack_dir
from assist.scripts.pack_diff import diff_packs, summary
from assist.scripts.pack_edit import Edit, apply_edit, apply_edits, structured
from assist.server.packs.http import SERVICE_KEY
from tests.consoles.conftest import as_user

T = TypeVar("T")
OUTAGE = ("categories", "system_outage", "rules", 0)


class Watched(FileCache):
    """A FileCache that records what it had to make (parse, compile) rather than remember."""

    def __init__(self) -> None:
        super().__init__()
        self.made: list[Hashable] = []

    def memo(self, key: Hashable, make: Callable[[], T]) -> T:
        def making() -> T:
            self.made.append(key)
            return make()

        return super().memo(key, making)


def edits(files: dict[str, str]) -> list[Edit]:
    """Edits of every kind the console sends, on rules, scripts and forbidden phrases."""
    rules = parse(files["rules.yaml"]).data["categories"]
    first = next(iter(rules))
    words = rules["system_outage"]["rules"][0]["any"]
    return [
        Edit("rules.yaml", (*OUTAGE, "any"), "set", [*words, "火星文"]),
        Edit("rules.yaml", (*OUTAGE, "any"), "set", [*words, "火星文", "转圈圈"]),
        Edit("rules.yaml", (*OUTAGE, "unless"), "set", ["不是", "没有"]),
        Edit("rules.yaml", (*OUTAGE, "in"), "set", ["customer", "note"]),
        Edit("rules.yaml", ("categories", first, "rules"), "append", {"id": "new_one", "any": ["甲", "乙"]}),
        Edit("rules.yaml", ("categories", first, "rules", 0, "description"), "set", "说明: 一句 # 不是注释"),
        Edit("rules.yaml", ("categories", first, "rules", 1), "delete"),
        Edit(
            "scripts.yaml",
            ("categories", "system_outage", "talking_points", 0, "zh-CN"),
            "set",
            "{{ customer_name or '您' }}好：请稍候",
        ),
        Edit("scripts.yaml", ("categories", "system_outage", "steps", "zh-CN"), "set", ["先安抚", "再登记"]),
        Edit("forbidden.yaml", ("rules", 0, "phrases"), "append", "甲乙丙"),
        Edit("rules.yaml", (*OUTAGE, "any"), "set", words),
    ]


def test_edits_checked_by_rereading_their_entry_give_the_text_and_data_of_a_whole_reread() -> None:
    files = read_pack_dir(DEFAULT_PACK)
    cache = FileCache()
    for edit in edits(files):
        old = files[edit.file]
        new = apply_edit(old, edit, cache)
        assert cache.yaml(new).doc is None, f"{edit}: checked by re-reading the whole file"
        # the nodes grafted for this text splice the next edit exactly as freshly parsed nodes would
        assert new == apply_edit(old, edit, FileCache())
        whole = parse(new).data
        assert json.dumps(cache.data(new), ensure_ascii=False) == json.dumps(whole, ensure_ascii=False)
        files = {**files, edit.file: new}
    assert structured(files, cache) == structured(files)
    load_pack(files, cache=cache)
    # a rule card saves several keys at once
    card = [
        Edit("rules.yaml", (*OUTAGE, "any"), "set", ["甲", "乙"]),
        Edit("rules.yaml", (*OUTAGE, "in"), "set", ["customer"]),
        Edit("rules.yaml", (*OUTAGE, "unless"), "delete"),
    ]
    assert apply_edits(files, card, cache) == apply_edits(files, card)


def test_a_problem_found_after_an_edit_names_its_file_and_line() -> None:
    files = read_pack_dir(DEFAULT_PACK)
    cache = FileCache()
    load_pack(files, cache=cache)
    new = apply_edits(files, [Edit("rules.yaml", (*OUTAGE, "in"), "set", ["nowhere"])], cache)
    problems = check_pack(new, cache=cache)
    assert [p.file for p in problems] == ["rules.yaml"]
    line = new["rules.yaml"].splitlines()[problems[0].line - 1]  # type: ignore[operator]
    assert "nowhere" in line
    assert problems == check_pack(new)  # as a pack read from scratch says


def test_a_keyword_save_reads_only_rules_yaml() -> None:
    files = read_pack_dir(DEFAULT_PACK)
    cache = Watched()
    load_pack(files, cache=cache)  # reads the files' data alone (FileCache.data), not their nodes
    structured(files, cache)
    cache.yaml(files["rules.yaml"])  # the nodes the edit worker keeps from the save before this one
    words = cache.data(files["rules.yaml"])["categories"]["system_outage"]["rules"][0]["any"]
    cache.made.clear()
    new = apply_edits(files, [Edit("rules.yaml", (*OUTAGE, "any"), "set", [*words, "火星文"])], cache)
    assert check_pack(new, cache=cache) == []
    view = structured(new, cache)
    lines = summary(diff_packs(files, new, cache, unified=False))
    assert len(lines) == 1 and lines[0].endswith("any: +火星文")
    assert "火星文" in view["rules.yaml"]["categories"]["system_outage"]["rules"][0]["any"]
    texts = {t for key in cache.made for t in (key if isinstance(key, tuple) else ()) if isinstance(t, str)}
    read = {name for name, text in files.items() if text in texts and name != "rules.yaml"}
    assert read == set(), f"unchanged files read again: {read}"
    made = [k[0] for k in cache.made if isinstance(k, tuple)]
    assert ("yaml", files["rules.yaml"]) not in cache.made and "doc" not in made, "rules.yaml parsed whole"
    assert cache.yaml(new["rules.yaml"]).doc is None and new["rules.yaml"] in texts  # its entry re-read alone


async def test_a_save_goes_on_when_the_edit_worker_dies(
    trainer_service: Running, http_session: aiohttp.ClientSession
) -> None:
    t1 = await as_user(trainer_service, http_session, "t1", "trainer")
    draft = await t1.call("POST", "/api/pack/drafts", {}, expect=201)
    words = draft["structured"]["rules.yaml"]["categories"]["system_outage"]["rules"][0]["any"]

    async def save(word: str) -> dict[str, Any]:
        out: dict[str, Any] = await t1.call(
            "PATCH",
            f"/api/pack/drafts/{draft['id']}",
            {"edits": [{"file": "rules.yaml", "path": [*OUTAGE, "any"], "value": [*words, word]}]},
        )
        assert out["structured"]["rules.yaml"]["categories"]["system_outage"]["rules"][0]["any"][-1] == word
        assert f"{word}]" in out["files"]["rules.yaml"] and out["problems"] == []
        return out

    await save("火星文")
    worker = trainer_service.http_runner.app[SERVICE_KEY].worker
    assert worker._warming is not None
    await worker._warming  # the worker has read the draft: saves now go to it
    process = worker._proc
    assert worker.ready and process is not None and process.is_alive()
    await save("转圈圈")
    process.kill()
    process.join()
    await save("白屏")  # the dead worker's save is done in the service, and the next one starts a new worker
    await save("闪退")
    assert worker._warming is not None
    await worker._warming
    assert worker.ready and worker._proc is not None and worker._proc is not process
    await save("卡顿")  # by the new worker
    bad = await t1.call(
        "PATCH",
        f"/api/pack/drafts/{draft['id']}",
        {"edits": [{"file": "rules.yaml", "path": [*OUTAGE, "in"], "value": ["nowhere"]}]},
    )
    assert [p["file"] for p in bad["problems"]] == ["rules.yaml"] and bad["problems"][0]["line"]
    audit = await t1.call("GET", f"/api/pack/audit?draft={draft['id']}")
    changes = [line for a in audit["audit"] for line in (a.get("detail") or {}).get("changes", [])]
    assert all(any(f"+{w}" in line for line in changes) for w in ("火星文", "转圈圈", "白屏", "闪退", "卡顿"))


class CountingJson:
    """`json` for the packs store module, counting what it decodes or encodes of a whole draft (~2 MB)."""

    def __init__(self) -> None:
        self.whole: list[str] = []

    def loads(self, text: str) -> Any:
        if len(text) > 500_000:
            self.whole.append("decoded")
        return json.loads(text)

    def dumps(self, value: Any, **kw: Any) -> str:
        text = json.dumps(value, **kw)
        if len(text) > 500_000:
            self.whole.append("encoded")
        return text


async def test_saves_neither_decode_nor_encode_the_whole_draft_yet_store_it_whole(
    trainer_service: Running, http_session: aiohttp.ClientSession, monkeypatch: Any
) -> None:
    """The draft's files column is ~2 MB of JSON, ~15 ms of the event loop each way: a save reads the row without
    it (the service holds the files of the revision it wrote) and sends only the file it changed, which the
    database merges into the stored JSON. What is stored is still the whole draft, as a fresh read (a restarted service)
    decodes it."""
    from assist.server.packs import store as ps

    counting = CountingJson()
    monkeypatch.setattr(ps, "json", counting)
    joined: list[int] = []  # the files column built whole in Python (~2 MB joined): on a new draft only
    whole = ps.files_json

    def files_json(files: Any, part: Any) -> str:
        joined.append(len(files))
        return whole(files, part)

    monkeypatch.setattr(ps, "files_json", files_json)
    service = trainer_service.http_runner.app[SERVICE_KEY]
    t1 = await as_user(trainer_service, http_session, "t1", "trainer")
    await t1.call("GET", "/api/pack/current")  # the console opens: the version in force is read once
    assert counting.whole == ["decoded"]
    counting.whole.clear()
    # the first save makes the draft from that version, then the saves
    draft = await t1.call("POST", "/api/pack/drafts", {}, expect=201)
    words = draft["structured"]["rules.yaml"]["categories"]["system_outage"]["rules"][0]["any"]
    answer = draft
    for word in ("火星文", "转圈圈", "白屏"):
        answer = await t1.call(
            "PATCH",
            f"/api/pack/drafts/{draft['id']}",
            {"edits": [{"file": "rules.yaml", "path": [*OUTAGE, "any"], "value": [*words, word]}]},
        )
        await t1.call("GET", f"/api/pack/drafts/{draft['id']}")  # the console reloads it
    # the whole column was built once (the new draft); each save sent a patch of its one file, merged in by the database
    assert counting.whole == [] and joined == [len(draft["files"]), 1, 1, 1]
    service.draft_files = type(service.draft_files)()  # as after a restart: nothing held
    fresh = await t1.call("GET", f"/api/pack/drafts/{draft['id']}")
    assert counting.whole == ["decoded"]
    assert fresh["files"] == answer["files"] and "白屏]" in fresh["files"]["rules.yaml"]
    assert json.loads(json.dumps(fresh["files"])) == dict(read_pack_dir(DEFAULT_PACK)) | {
        "rules.yaml": fresh["files"]["rules.yaml"]
    }
