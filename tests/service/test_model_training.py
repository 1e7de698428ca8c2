"""The training worker: a worker that dies is reported and replaced, never left broken."""

from __future__ import annotations

import os

import pytest

from assist.server.packs.training import ModelTrainer


def die(files: dict[str, str]) -> int:
    os._exit(3)


async def test_a_dead_worker_is_reported_and_the_next_job_gets_a_new_one() -> None:
    trainer = ModelTrainer()
    try:
        with pytest.raises(RuntimeError, match="training worker stopped"):
            await trainer._in_worker(die, {})
        assert await trainer._in_worker(len, {"samples.jsonl": ""}) == 1
    finally:
        trainer.close()


async def test_a_back_test_after_a_rules_only_edit_does_not_cross_validate_again() -> None:
    trainer = ModelTrainer()
    runs: list[dict[str, str]] = []

    async def in_worker(fn: object, files: dict[str, str]) -> dict[str, dict[str, float]]:
        runs.append(files)
        return {"s1": {"none": 0.9}}

    trainer._in_worker = in_worker  # type: ignore[method-assign,assignment]
    files = {"samples.jsonl": '{"id": "s1"}\n', "rules.yaml": "rules: []\n"}
    first = await trainer.cross_validate(files)
    again = await trainer.cross_validate({**files, "rules.yaml": "rules: [] # a keyword edited\n"})
    assert again == first and len(runs) == 1  # the models learn from samples, not from rules
    await trainer.cross_validate({**files, "samples.jsonl": '{"id": "s2"}\n'})
    assert len(runs) == 2  # new samples: the folds are trained again
