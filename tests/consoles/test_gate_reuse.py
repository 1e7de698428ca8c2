"""A back-test and then the publish gate classify each sample under the pack in force once, not twice."""

from __future__ import annotations

from typing import Any

import pytest

from assist.app import Running
from assist.scripts.pack import read_pack_dir
from assist.server.packs.http import SERVICE_KEY

pytestmark = pytest.mark.small_pack  # every sample is classified: the small pack (tests/conftest.py)


async def test_samples_run_twice_classify_each_under_the_pack_in_force_once(
    trainer_service: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = trainer_service.http_runner.app[SERVICE_KEY]
    published = await service.published_pack()
    assert published is not None
    seen: list[int] = []
    classify = published.classifier.classify

    def counting(*args: Any, **kwargs: Any) -> Any:
        seen.append(1)
        return classify(*args, **kwargs)

    monkeypatch.setattr(published.classifier, "classify", counting)
    files = dict(read_pack_dir(trainer_service.hub.settings.pack))
    first = await service.run_samples(files)
    once = len(seen)
    assert once == len(published.samples), "each sample was classified under the pack in force"
    again = await service.run_samples(files)
    assert len(seen) == once, "the second run reused the pack in force's labels"
    assert again.to_json() == first.to_json()

    changed = dict(files)
    lines = changed["samples.jsonl"].splitlines()
    lines[0] = lines[0].replace('"labels"', '"note": "edited", "labels"', 1)
    changed["samples.jsonl"] = "\n".join(lines) + "\n"
    await service.run_samples(changed)
    assert len(seen) == once + 1, "a sample whose text changed is classified again, the others are not"


async def test_the_gate_judges_an_unchanged_draft_once(
    trainer_service: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Readiness, submit and publish of the same draft files under the same pack in force judge its samples
    once; a back-test (with cross-validation and progress) and any edit judge again."""
    import assist.server.packs.service as ps_service

    service = trainer_service.http_runner.app[SERVICE_KEY]
    judged: list[int] = []
    judge = ps_service._judge

    def counting(*args: Any, **kwargs: Any) -> Any:
        judged.append(1)
        return judge(*args, **kwargs)

    monkeypatch.setattr(ps_service, "_judge", counting)
    files = dict(read_pack_dir(trainer_service.hub.settings.pack))
    first = await service.run_samples(files)
    assert (await service.run_samples(files)).to_json() == first.to_json()
    assert len(judged) == 1
    changed = dict(files)
    changed["samples.jsonl"] = changed["samples.jsonl"].replace('"labels"', '"note": "edited", "labels"', 1)
    await service.run_samples(changed)
    assert len(judged) == 2, "an edited draft is judged again"
