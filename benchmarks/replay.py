"""Replay timings: every workflow and negative twin in-process, and N vehicles through a lifeline.

Both use the real runner over loopback HTTP against both fakes started in this process
(icarflex.scenarios.fakes.local_fakes): the ICAR connector really calls the OpenFlex fake, and the
runner audits every step's journal entries, as `icarflex run` does.
"""
from __future__ import annotations

import threading
import time
from typing import Any

from icarflex.contracts import load_contract
from icarflex.mocks.openflex.app import DEFAULTS as OPENFLEX_DEFAULTS
from icarflex.scenarios.fakes import local_fakes
from icarflex.scenarios.runner import Runner, Targets

DEFAULT_REFERENCE_SIZE = int(OPENFLEX_DEFAULTS["REFERENCE_SIZE"])


def replay_all_in_process(seed: int) -> float:
    """Seconds to replay every workflow with its negative twins (fakes started beforehand)."""
    workflows = [w.id for w in load_contract().workflows]
    with local_fakes() as fakes:
        started = time.perf_counter()
        with Runner(Targets(fakes.openflex_url, fakes.icar_url), seed=seed) as runner:
            result = runner.run(workflows)
        elapsed = time.perf_counter() - started
    if not result.ok:
        raise RuntimeError("the replay of every workflow failed: run `icarflex run all` to see why")
    return elapsed


def replay_vehicles(count: int, seed: int, concurrency: int = 1,
                    workflow: str = "particulier") -> dict[str, Any]:
    """Seconds to take `count` vehicles through the whole `workflow` lifeline, both systems involved,
    `concurrency` runners at once (as several integrators on one sandbox would).

    OpenFlex's referential holds a vehicle for each (each is taken in as RECONCILED, rule R2);
    each runner is given its own share of it, so no two runners take in the same VIN."""
    # Journals large enough to hold the whole replay: runners reading theirs concurrently must
    # not find entries trimmed before they read them.
    journal = {"JOURNAL_LIMIT": max(10_000, count * 200)}
    reference = {"REFERENCE_SIZE": max(DEFAULT_REFERENCE_SIZE, count + count // 10), **journal}
    concurrency = max(1, min(concurrency, count))
    shares = [count // concurrency + (1 if n < count % concurrency else 0) for n in range(concurrency)]
    outcomes: list[bool] = []
    with local_fakes(openflex_config=reference, icar_config=journal) as fakes:
        runners = [Runner(Targets(fakes.openflex_url, fakes.icar_url), seed=seed + n, negative=False)
                   for n in range(concurrency)]
        pool = runners[0]._reference_vehicles()
        for n, runner in enumerate(runners):
            runner._reference = pool[n::concurrency]  # each runner its own VINs

        def run(runner: Runner, share: int) -> None:
            with runner:
                outcomes.append(runner.run([workflow] * share).ok)

        started = time.perf_counter()
        threads = [threading.Thread(target=run, args=pair) for pair in zip(runners, shares, strict=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    if len(outcomes) != concurrency or not all(outcomes):
        raise RuntimeError(f"the {count}-vehicle replay failed")
    return {"vehicles": count, "workflow": workflow, "seconds": elapsed, "concurrency": concurrency}
