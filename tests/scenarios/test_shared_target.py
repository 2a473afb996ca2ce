"""A runner on a shared target (a sandbox several integrators use, or several runners of one
benchmark) judges the vehicles it created, never another client's: another client's vehicle
left split between ICAR and OpenFlex while the run goes on does not turn the run red, and two
runners replaying at once on one dealer are both green. Both fakes live, real HTTP."""
from __future__ import annotations

import threading
from typing import Any

import requests
from icarflex.scenarios.results import ScenarioResult
from icarflex.scenarios.runner import Runner, Silent, Targets
from icarflex.scenarios.sandbox import Sandbox

ADMIN, OPENFLEX_USER, ICAR_USER = "demo-admin-key", "demo-openflex-key", "demo-icar-key"



def call(method: str, url: str, key: str, json: Any = None) -> requests.Response:
    return requests.request(method, url, json=json, headers={"Authorization": f"Bearer {key}"}, timeout=30)


class ForeignSplit(Silent):
    """When the run's first scenario starts, another client of the same dealer books a physical
    entry in ICAR that OpenFlex never receives (OpenFlex down for writes meanwhile): an open
    desynchronisation (R10), and ICAR ahead of OpenFlex, on a vehicle that is not the run's."""

    def __init__(self, openflex: str, icar: str) -> None:
        self.openflex, self.icar, self.vehicle_id = openflex, icar, None

    def scenario_started(self, scenario: ScenarioResult) -> None:
        if self.vehicle_id is not None:
            return
        reference = call("GET", f"{self.openflex}/api/v1/reference/vehicles?limit=100", OPENFLEX_USER).json()
        last = reference["items"][-1]  # the runner takes the referential from its start
        created = call("POST", f"{self.openflex}/api/v1/vehicles", OPENFLEX_USER, {
            "vin": last["vin"], "registration": last["registration"], "destination": "PARTICULIER",
            "origin": "PARTICULIER", "purchase_source": "REPRISE", "mileage": 42_000,
            "trade_in_price": 6_000.0})
        assert created.status_code == 201, created.text
        self.vehicle_id = created.json()["id"]
        record = call("POST", f"{self.icar}/api/v1/vehicles/match", ICAR_USER,
                      {"openflex_id": self.vehicle_id})
        assert record.status_code == 201, record.text
        down = {"error_rate": 1.0, "error_status": 503, "methods": ["PATCH"]}
        assert call("PUT", f"{self.openflex}/__admin/faults", ADMIN, down).ok
        try:
            entry = call("POST", f"{self.icar}/api/v1/vehicles/{record.json()['id']}/physical-entry",
                         ICAR_USER, {"mileage": 43_000})
            assert entry.status_code == 504, entry.text
        finally:
            assert call("PUT", f"{self.openflex}/__admin/faults", ADMIN, {}).ok


def test_another_client_s_split_vehicle_does_not_turn_the_run_red(served: tuple[str, str]) -> None:
    openflex, icar = served
    foreign = ForeignSplit(openflex, icar)
    with Runner(Targets(openflex, icar), negative=False, listener=foreign) as runner:
        result = runner.run(["particulier", "marchand"])
    assert foreign.vehicle_id is not None
    assert result.ok, [(c.name, c.detail) for c in result.final_checks if not c.ok]
    assert all(foreign.vehicle_id not in check.detail for check in result.final_checks)


def test_two_runners_replaying_at_once_on_one_dealer_are_both_green(served: tuple[str, str]) -> None:
    openflex, icar = served
    runners = [Runner(Targets(openflex, icar), seed=seed, negative=False) for seed in (1, 2)]
    pool = runners[0]._reference_vehicles()
    for n, runner in enumerate(runners):
        runner._reference = pool[n::2]  # each its own VINs, as two integrators' vehicles differ
    start = threading.Barrier(2)
    results: list[Any] = []

    def replay(runner: Runner) -> None:
        with runner:
            start.wait(timeout=30)
            results.append(runner.run(["particulier"] * 6))

    threads = [threading.Thread(target=replay, args=(runner,)) for runner in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert len(results) == 2
    for result in results:
        assert result.ok, [(c.name, c.detail) for c in result.final_checks if not c.ok]


def test_two_dealers_on_one_target_each_number_their_own_invoices(served: tuple[str, str]) -> None:
    """Each dealer's invoices are its own sequence: the second dealer's first invoice is no 500
    on the first dealer's number."""
    openflex, icar = served
    numbers = []
    for _ in range(2):
        sandbox = Sandbox.create(openflex, icar, ADMIN)
        keys = sandbox.runner_keys
        with Runner(Targets(openflex, icar, keys=keys, dealer=sandbox.dealer), negative=False) as runner:
            result = runner.run(["casse"])
        assert result.ok, [c.detail for s in result.scenarios for st in s.steps for c in st.checks
                           if not c.ok]
        icar_id = result.scenarios[0].vehicle["icar_id"]
        record = call("GET", f"{icar}/api/v1/vehicles/{icar_id}", keys["icar"])
        numbers.append(record.json()["invoice"]["number"])
    assert numbers[0] == numbers[1]  # both dealers' first invoice of the year
