"""A pack's models: model.yaml validation, too few samples named at check time, artifacts that do not fit."""

from __future__ import annotations

import json

import pytest

from assist.config import DEFAULT_PACK
from assist.problems import PackError
from assist.scripts.pack import Pack, load_pack, read_pack_dir
from tests.conftest import TRAINER


def test_model_yaml_problems_are_located() -> None:
    files = read_pack_dir(DEFAULT_PACK)
    files["model.yaml"] = (
        "calls:\n  system_outage: {alone: high}\n  no_such: {alone: 0}\nlines: {thresholds: {nope: 1}}\n"
    )
    with pytest.raises(PackError) as err:
        load_pack(files)
    text = str(err.value)
    assert "model.yaml:2 calls.system_outage.alone" in text
    assert "unknown category 'no_such'" in text
    assert "unknown forbidden rule 'nope'" in text


def test_too_few_samples_for_a_category_is_named_at_check_time() -> None:
    files = read_pack_dir(DEFAULT_PACK)
    keep = [
        line
        for line in files["samples.jsonl"].splitlines()
        if line.strip()
        and json.loads(line)["labels"][0] != "media.live"
        and "media.live" not in json.loads(line)["labels"]
    ]
    files["samples.jsonl"] = "\n".join(keep) + "\n"
    with pytest.raises(PackError, match=r"category 'media.live' has 0 sample call\(s\)"):
        load_pack(files)
    files["model.yaml"] = "enabled: false\nlines: {enabled: false}\n"
    pack = load_pack(files)
    assert not pack.has_model and pack.model_problem is None, "switched off, the pack needs no samples"


def test_an_artifact_that_does_not_fit_leaves_the_rules_alone(default_pack_with_models: Pack) -> None:
    files = read_pack_dir(DEFAULT_PACK)
    missing = load_pack(files)
    assert not missing.has_model and "no trained model" in (missing.model_problem or "")
    corrupt = load_pack(files, models=b"\x93garbage")
    assert not corrupt.has_model and "corrupt" in (corrupt.model_problem or "")
    other = dict(files, **{"samples.jsonl": files["samples.jsonl"] + "\n"})
    stored = default_pack_with_models
    assert stored.has_model and stored.forbidden.model is not None and stored.model_problem is None
    artifact = TRAINER.train_here(files)
    mismatched = load_pack(other, models=artifact)
    assert not mismatched.has_model and "other samples" in (mismatched.model_problem or "")
