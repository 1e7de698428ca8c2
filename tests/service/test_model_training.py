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
