"""Replay timings: every workflow and negative twin in-process, and N vehicles through a lifeline.

Both use the real runner over loopback HTTP (the library transport, urllib3): every workflow
against both fakes started in this process (icarflex.scenarios.fakes.local_fakes), the N vehicles
against `icarflex serve` in a process of its own, as integrators run it. The ICAR connector
really calls the OpenFlex fake, and the runner audits every step's journal entries.
"""
from __future__ import annotations

import threading
import time
from typing import Any

from icarflex.contracts import load_contract
from icarflex.mocks.openflex.app import DEFAULTS as OPENFLEX_DEFAULTS
from icarflex.scenarios.fakes import local_fakes
from icarflex.scenarios.runner import Runner, Targets
from icarflex.scenarios.sandbox import Sandbox

DEFAULT_REFERENCE_SIZE = int(OPENFLEX_DEFAULTS["REFERENCE_SIZE"])
ADMIN_KEY = "demo-admin-key"


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


def replay_vehicles(openflex_url: str, icar_url: str, count: int, seed: int, concurrency: int = 1,
                    workflow: str = "particulier") -> dict[str, Any]:
    """Seconds to take `count` vehicles through the whole `workflow` lifeline against served fakes
    (`icarflex serve`, another process), both systems involved, `concurrency` runners at once, as
    several integrators on one sandbox: each in a dealer of its own (`POST /__admin/dealers`),
    each on its own share of the referential (each vehicle is taken in RECONCILED, rule R2), and
    each judging every step of its own, as `icarflex run` does."""
    concurrency = max(1, min(concurrency, count))
    shares = [count // concurrency + (1 if n < count % concurrency else 0) for n in range(concurrency)]
    runners = [_own_dealer_runner(openflex_url, icar_url, seed + n) for n in range(concurrency)]
    pool = runners[0]._reference_vehicles()
    if len(pool) < count:
        raise RuntimeError(f"the referential holds {len(pool)} vehicles, fewer than {count}")
    for n, runner in enumerate(runners):
        runner._reference = pool[n::concurrency]  # each runner its own VINs
    outcomes: list[bool] = []

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
        raise RuntimeError(f"the {count}-vehicle replay failed: run `icarflex run {workflow}` to see why")
    return {"vehicles": count, "workflow": workflow, "seconds": elapsed, "concurrency": concurrency}


def _own_dealer_runner(openflex_url: str, icar_url: str, seed: int) -> Runner:
    sandbox = Sandbox.create(openflex_url, icar_url, ADMIN_KEY)
    targets = Targets(openflex_url, icar_url, keys=sandbox.runner_keys, dealer=sandbox.dealer)
    return Runner(targets, seed=seed, negative=False)


def served_config(count: int) -> dict[str, str]:
    """`icarflex serve`'s environment for a replay of `count` vehicles: a referential holding a
    vehicle for each, and journals that keep every entry of the replay."""
    return {"ICARFLEX_REFERENCE_SIZE": str(max(DEFAULT_REFERENCE_SIZE, count + count // 10)),
            "ICARFLEX_JOURNAL_LIMIT": str(max(10_000, count * 200))}
