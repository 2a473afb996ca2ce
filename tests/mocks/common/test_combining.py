"""Group commit: writers queued while another holds the key's lock are run as one batch, in
arrival order, each getting its own result or error; other keys are not held up."""
from __future__ import annotations

import threading
import time

import pytest
from icarflex.mocks.common.combining import Combiner, Job


def test_writers_queued_behind_a_batch_run_together_in_arrival_order():
    combiner, batches = Combiner(), []
    release = threading.Event()

    def run(batch: list[Job]) -> None:
        batches.append([job.payload for job in batch])
        if batch[0].payload == "first":
            release.wait(5)
        for job in batch:
            job.result = job.payload.upper()

    first = threading.Thread(target=combiner.submit, args=("v1", Job("first"), run))
    first.start()
    while not batches:
        time.sleep(0.001)
    jobs = [Job(name) for name in ("second", "third")]
    waiters = []
    for job in jobs:  # queued in this order while "first" holds the lock
        waiters.append(threading.Thread(target=combiner.submit, args=("v1", job, run)))
        waiters[-1].start()
        while job not in combiner._queues.get("v1", ()):
            time.sleep(0.001)
    release.set()
    for thread in (first, *waiters):
        thread.join(5)
    assert batches == [["first"], ["second", "third"]]
    assert [job.result for job in jobs] == ["SECOND", "THIRD"] and all(job.done for job in jobs)


def test_an_exception_of_the_batch_is_every_unfinished_writers_error():
    combiner = Combiner()

    def run(batch: list[Job]) -> None:
        raise RuntimeError("store gone")

    job = Job("x")
    with pytest.raises(RuntimeError):
        combiner.submit("v1", job, run)
    assert job.done and isinstance(job.error, RuntimeError)


def test_a_lone_writer_is_a_batch_of_one_and_leaves_no_queue_behind():
    combiner = Combiner()

    def run(batch: list[Job]) -> None:
        batch[0].result = len(batch)

    assert combiner.submit("v2", Job(None), run).result == 1
    assert "v2" not in combiner._queues
