"""Replay the workflows over HTTP against a pair of base URLs and check the contract at every step.

Before replaying, the runner opens the targets' journals and compares the API VO
parameterization the target serves to the keys given with the expected one (drift). It
never resets a target unless asked (`reset=True`, `--reset`): it works on the dealer of
its keys and touches only the vehicles it creates. A negative twin that must flip a row
of the parameterization runs in a scratch dealer of its own (`POST /__admin/dealers`,
serving the expected profile), skipped and named where the target gives none. Each workflow runs on a fresh,
generated vehicle; each negative twin replays its workflow up to the step it
replaces, then makes its forbidden attempt. After every step: the OpenFlex status
the contract gives, the ICAR status through the mapping (never ahead, never behind),
the scenario's expected fields on both sides, and that step's journal entries
audited by the checker. At the end, the checker's cross-system audit of both journals.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from random import Random
from typing import Any, Protocol

from icarflex.contracts import ApiVoSettings, Contract, load_contract
from icarflex.contracts.profile import parse_overlay
from icarflex.mocks.common.wire import WireMapping
from icarflex.scenarios import verdicts
from icarflex.scenarios.actions import ACTIONS
from icarflex.scenarios.checker import (
    DESYNC,
    DESYNC_REFUSED,
    DESYNC_RESOLVED,
    Auditor,
    cross_check,
    desynchronisations,
    entry_vehicle_ids,
)
from icarflex.scenarios.clients import DEMO_KEYS, Dms, HttpClient, OpenFlexClient, Reply, TargetUnreachable
from icarflex.scenarios.drift import compare
from icarflex.scenarios.expect import UnknownReference, resolve
from icarflex.scenarios.generate import generate_case
from icarflex.scenarios.model import NegativeTwin, Scenario, Step, load_scenarios
from icarflex.scenarios.results import (
    ATTEMPT,
    SETUP,
    STEP,
    Call,
    Check,
    RunResult,
    ScenarioResult,
    StepResult,
)
from icarflex.scenarios.sandbox import Sandbox, SandboxUnavailable

REFERENCE_PAGE = 500  # the most vehicles of the referential one read returns (docs/api.md)


@dataclass(frozen=True)
class Targets:
    openflex_url: str
    icar_url: str
    keys: Mapping[str, str] = field(default_factory=lambda: dict(DEMO_KEYS))
    dealer: str = "demo"
    # OpenFlex's paths and JSON names (a wire mapping file; default the fakes' own).
    mapping: WireMapping = field(default_factory=WireMapping)


class AuditUnavailable(RuntimeError):
    """The targets' journals cannot be read, and the run was asked to audit them (exit 2)."""


class Listener(Protocol):
    def scenario_started(self, scenario: ScenarioResult) -> None: ...
    def step_done(self, step: StepResult) -> None: ...
    def scenario_done(self, scenario: ScenarioResult) -> None: ...
    def note(self, text: str) -> None: ...


class Silent:
    def scenario_started(self, scenario: ScenarioResult) -> None: pass
    def step_done(self, step: StepResult) -> None: pass
    def scenario_done(self, scenario: ScenarioResult) -> None: pass
    def note(self, text: str) -> None: pass


class Replay:
    """One vehicle's replay: the clients per actor, the namespace, the current step's target status."""

    def __init__(self, runner: Runner, values: dict[str, Any]) -> None:
        self.runner, self.values = runner, values
        self.target_status: str | None = None

    @property
    def contract(self) -> Contract:
        return self.runner.contract

    def openflex(self, actor: str) -> OpenFlexClient:
        return self.runner.client(actor)

    @property
    def icar(self) -> Dms:
        return self.runner.icar

    def identity(self) -> dict[str, Any]:
        """Who the replayed vehicle is (the same dict grows as steps return ids and numbers)."""
        vehicle = self.values["vehicle"]
        self.values.setdefault("identity", {
            "make": self.values["make"], "model": self.values["model"], "vin": vehicle["vin"],
            "registration": vehicle["registration"], "mileage": vehicle["mileage"],
            "first_registration_date": vehicle["first_registration_date"],
            "destination": vehicle["destination"], "customer": self.values["customer"],
            "buyer": self.values["buyer"], "invoice_price": self.values["invoice_price"]})
        return self.values["identity"]


class Runner:
    def __init__(self, targets: Targets, *, expected: ApiVoSettings | None = None, seed: int = 2025,
                 negative: bool = True, reset: bool = False, profile_name: str | None = None,
                 listener: Listener | None = None, contract: Contract | None = None,
                 audit_required: bool = False) -> None:
        self.targets, self.seed, self.negative, self.reset = targets, seed, negative, reset
        self.audit_required = audit_required  # a journal that cannot be read stops the run
        self.contract = contract or load_contract()
        self.expected = expected or ApiVoSettings.defaults(self.contract)
        self.profile_name = profile_name
        self.listener = listener or Silent()
        self.scenarios = load_scenarios(self.contract)
        self.auditor = Auditor(self.contract, self.expected)
        keys = targets.keys
        sent = self._on_send
        self.reader = OpenFlexClient(targets.openflex_url, keys["openflex_user"], on_send=sent,
                                     mapping=targets.mapping)
        self.admin = OpenFlexClient(targets.openflex_url, keys.get("admin"), "admin", on_send=sent,
                                    mapping=targets.mapping)
        self.icar = Dms(targets.icar_url, keys["icar"], on_call=self._on_call, on_send=sent)
        self.icar_admin = Dms(targets.icar_url, keys.get("admin"), "admin", on_send=sent)
        self._clients: dict[str, OpenFlexClient] = {}
        self._current: StepResult | None = None
        self._replies: list[Reply] = []
        self._entries: list[dict[str, Any]] = []
        self._own: set[str] = set()  # the ids (OpenFlex and ICAR) of the vehicles this run created
        self.journal_on, self._cursor, self._start = False, 0, (0, 0)
        self._unread = True  # an API call since the last drain: the journal may hold new entries
        self._salt, self._index = "", 0
        self._reference: list[dict[str, Any]] | None = None
        self._used_vins: set[str] = set()
        self._fresh = False  # targets reset by this run: only its own vehicles exist there
        self._pending: Call | None = None  # the last ICAR call whose OpenFlex effects are not read yet

    def close(self) -> None:
        """Hang up every keep-alive connection (a fake stopping next need not wait for them)."""
        for client in (self.reader, self.admin, self.icar, self.icar_admin, *self._clients.values()):
            client.close()

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- clients and journal -------------------------------------------------------
    def client(self, actor: str) -> OpenFlexClient:
        if actor not in self._clients:
            self._clients[actor] = OpenFlexClient(self.targets.openflex_url, self.targets.keys.get(actor),
                                                  actor, on_call=self._on_call, on_send=self._on_send,
                                                  mapping=self.targets.mapping)
        return self._clients[actor]

    def _on_send(self, client: HttpClient, method: str, path: str, record: bool) -> None:
        """Before any request of ours: an API call may add OpenFlex journal entries (an ICAR one
        through its connector), so the journal is read again only after one. The entries that an
        ICAR call will cause are told apart from those before it by reading these first; the
        effects of the last ICAR call are read at the latest before a request that could add
        entries of the DMS actor (so a state read of another actor waits for the step's last read)."""
        if path.startswith("/__"):
            return  # the simulator's controls (/__admin/) are not journaled; the API is, under any prefix
        separate = client.system == "icar" and record and client.on_call is not None
        dms_read = client.system == "openflex" and client.actor == self.contract.dms_actor
        if separate or (self._pending is not None and (record or dms_read)):
            self._entries += self._drain()
        self._unread = True

    def _on_call(self, reply: Reply) -> None:
        self._replies.append(reply)
        problem = reply.problem
        call = Call(reply.actor, reply.system, reply.method, reply.path, reply.status,
                    (reply.body or {}).get("code") if isinstance(reply.body, dict) and not reply.ok else None)
        if reply.system == "icar" and self.journal_on:
            # The OpenFlex entries an ICAR call caused (its connector's writes) belong to that call:
            # they are its DMS entries of the next read of the journal (see _on_send). An OpenFlex
            # call's own entries are read with the rest of its step.
            self._pending = call
        if problem:
            inner = " ".join([str(problem.get("code")), ",".join(problem.get("rule") or []),
                              ",".join(problem.get("fields") or [])])
            call.code = inner.strip() if problem is reply.body else f"{call.code} ← {inner.strip()}"
        if self._current is not None:
            self._current.calls.append(call)

    def _drain(self) -> list[dict[str, Any]]:
        """The OpenFlex journal's entries since the last drain (none read when no API call was made)."""
        if not self.journal_on or not self._unread:
            return []
        pending, self._pending = self._pending, None
        reply = self.admin.journal(self._cursor, self.targets.dealer)
        if not reply.ok:
            if self.audit_required:
                raise AuditUnavailable(f"journal OpenFlex illisible en cours de rejeu : {reply.status} "
                                       f"{str(reply.body)[:200]}")
            return []
        self._unread = False
        self._cursor = reply.body.get("next_after", self._cursor)
        entries = reply.body.get("items") or []
        if pending is not None:
            pending.effects = [e for e in entries if e.get("actor") == self.contract.dms_actor]
        return entries

    # -- a run ---------------------------------------------------------------------
    def run(self, workflow_ids: Sequence[str]) -> RunResult:
        started = time.monotonic()
        result = RunResult(self.seed, self.targets.openflex_url, self.targets.icar_url, self.profile_name)
        self._prepare(result)
        for workflow_id in workflow_ids:
            scenario = self.scenarios[workflow_id]
            result.scenarios.append(self.run_workflow(scenario))
            if self.negative:
                result.scenarios += [self.run_twin(scenario, twin) for twin in scenario.twins]
        result.final_checks = self._final_checks(system_error=bool(result.system_errors))
        result.duration = time.monotonic() - started
        return result

    def _prepare(self, result: RunResult) -> None:
        self._salt = f"{time.time_ns()}-"  # vehicles of their own, beside whatever the target holds
        if self.reset:
            done = self.admin.reset().ok and self.icar_admin.reset().ok
            self._fresh = done
            result.notes.append("cibles remises à zéro (--reset)" if done else
                                "pas de remise à zéro des cibles (clé admin refusée) : véhicules neufs")
        first = self.admin.journal(0, self.targets.dealer)
        self.journal_on = first.ok
        if self.journal_on:
            self._cursor, self._unread = first.body.get("next_after", 0), False
            icar = self.icar_admin.journal(0)
            self._start = (self._cursor, icar.body.get("next_after", 0) if icar.ok else 0)
        elif self.audit_required:
            raise AuditUnavailable(f"journal OpenFlex illisible avec la clé admin ({first.status}) : l'audit "
                                   "du trafic ne peut pas se faire — donnez --admin-key, ou --no-audit")
        else:
            result.notes.append("journal OpenFlex indisponible : audit du journal non fait (--no-audit)")
        for note in result.notes:
            self.listener.note(note)
        settings = self.reader.settings()
        result.drift = compare(self.expected, settings.body if settings.ok else None)
        for row in result.drift:
            self.listener.note(f"DÉRIVE du paramétrage : {row.describe()}")

    # -- scenarios -------------------------------------------------------------------
    def _new_replay(self, workflow: str) -> Replay:
        self._index += 1
        case = generate_case(workflow, self.seed, f"{self._salt}{self._index}", contract=self.contract)
        self._adopt_reference_vehicle(case)
        return Replay(self, case)

    def _adopt_reference_vehicle(self, case: dict[str, Any]) -> None:
        """Take a vehicle of the target's referential when it publishes one (rule R2: RECONCILED)."""
        if self._reference is None:
            self._reference = self._reference_vehicles()
        pool = [r for r in self._reference if r["vin"] not in self._used_vins]
        rng = Random(f"{self.seed}:{case['index']}")
        same_make = [r for r in pool if r["make"].upper() == case["make"]]
        others = [r for r in pool if r["make"].upper() != case["make"]]
        rng.shuffle(same_make)
        rng.shuffle(others)
        for chosen in (same_make + others)[:10]:
            self._used_vins.add(chosen["vin"])
            if not self._fresh and self._vehicle_exists(chosen["vin"]):
                continue  # a target not reset may hold it already: one vehicle per VIN
            case["vehicle"].update(vin=chosen["vin"], registration=chosen["registration"])
            case.update(make=chosen["make"], model=chosen["model"])
            return
        self._used_vins.add(case["vehicle"]["vin"])  # a reset target holds only the VINs used here

    def _reference_vehicles(self) -> list[dict[str, Any]]:
        """The target's referential; one make at a time when it holds more than one page."""
        def page(**filters: Any) -> dict[str, Any]:
            reply = self.reader.api("GET", "reference", params={"limit": REFERENCE_PAGE, **filters},
                                    record=False)
            return reply.body if reply.ok and isinstance(reply.body, dict) else {}
        first = page()
        items = first.get("items") or []
        if int(first.get("total") or 0) <= len(items):
            return items
        makes = sorted(set((first.get("wmi") or {}).values()))
        by_make = [page(make=make).get("items") or [] for make in makes]
        return [item for found in by_make for item in found] or items

    def _vehicle_exists(self, vin: str) -> bool:
        reply = self.reader.find_vehicles(vin=vin)
        return bool(reply.ok and isinstance(reply.body, dict) and reply.body.get("items"))

    def run_workflow(self, scenario: Scenario) -> ScenarioResult:
        workflow = scenario.workflow
        result = ScenarioResult(workflow.id, workflow.id, workflow.title, "workflow", workflow.guide_section)
        self.listener.scenario_started(result)
        unmet = self._unmet_all(scenario.premises())
        if unmet:
            reason = f"parcours non applicable sous le paramétrage attendu : {', '.join(unmet)}"
            return self._skipped(result, reason)
        replay = self._new_replay(workflow.id)
        result.vehicle = replay.identity()
        for step in scenario.steps:
            step_result = self._play_step(replay, result, step)
            if not step_result.ok:
                result.error = f"arrêt après l'échec de l'étape {step.id}"
                break
        self._done(result, replay)
        return result

    def run_twin(self, scenario: Scenario, twin: NegativeTwin) -> ScenarioResult:
        result = ScenarioResult(twin.id, scenario.id, twin.title, "twin", scenario.workflow.guide_section,
                                rules=twin.rules)
        self.listener.scenario_started(result)
        unmet = self._unmet_all([*scenario.premises(until=twin.instead_of), twin.when or {}])
        if unmet:
            reason = f"prémisse non tenue par le paramétrage attendu : {', '.join(unmet)}"
            return self._skipped(result, reason)
        if any(setup.action == "set_parameterization" for setup in twin.setup):
            try:
                with self._scratch_dealer():
                    return self._play_twin(scenario, twin, result)
            except SandboxUnavailable as exc:
                return self._skipped(result, f"le paramétrage doit changer, dans un concessionnaire de "
                                             f"travail que la cible ne donne pas : {exc}")
        return self._play_twin(scenario, twin, result)

    def _play_twin(self, scenario: Scenario, twin: NegativeTwin, result: ScenarioResult) -> ScenarioResult:
        replay = self._new_replay(scenario.id)
        result.vehicle = replay.identity()
        try:
            for step in scenario.steps_before(twin.instead_of):
                if not self._play_step(replay, result, step).ok:
                    result.error = f"le parcours s'arrête avant la tentative (étape {step.id})"
                    return result
            for setup in twin.setup:
                done = self._play(replay, result, SETUP, setup.action, setup.actor, setup.inputs,
                                  title=f"préparation : {setup.action}")
                if not done.ok:
                    denied = any(call.status in (401, 403) for call in done.calls)
                    if denied:  # the target did not give us this actor's key: the twin cannot be set up
                        result.skipped = f"préparation {setup.action} refusée à {setup.actor} (clé absente ?)"
                    else:
                        result.error = f"préparation {setup.action} en échec"
                    return result
            self._attempt(replay, result, scenario, twin)
        finally:
            self._done(result, replay)
        return result

    @contextmanager
    def _scratch_dealer(self) -> Iterator[Sandbox]:
        """The replay moved to a dealer of its own on both targets, serving the expected profile;
        its keys withdrawn at the end (its vehicles stay, nobody else's were touched)."""
        sandbox = Sandbox.create(self.targets.openflex_url, self.targets.icar_url,
                                 self.targets.keys.get("admin") or "", settings=self.expected.to_json())
        sandbox.settings_path = self.targets.mapping.wire_path("settings")
        saved = (self.targets, self.reader, self.icar, self._clients)
        keys = sandbox.runner_keys
        self.targets = replace(self.targets, keys=keys, dealer=sandbox.dealer)
        self.reader = OpenFlexClient(self.targets.openflex_url, keys["openflex_user"], on_send=self._on_send,
                                     mapping=self.targets.mapping)
        self.icar = Dms(self.targets.icar_url, keys["icar"], on_call=self._on_call, on_send=self._on_send)
        self._clients = {}
        try:
            yield sandbox
        finally:
            self._entries += self._drain()
            for client in (self.reader, self.icar, *self._clients.values()):
                client.close()
            self.targets, self.reader, self.icar, self._clients = saved
            sandbox.withdraw()

    def _done(self, result: ScenarioResult, replay: Replay) -> None:
        result.vehicle.update({k: replay.values[k] for k in ("police_number", "vehicle_id", "icar_id")
                               if k in replay.values})
        self._own |= {str(replay.values[k]) for k in ("vehicle_id", "icar_id") if replay.values.get(k)}
        self.listener.scenario_done(result)

    def _skipped(self, result: ScenarioResult, reason: str) -> ScenarioResult:
        result.skipped = reason
        self.listener.scenario_done(result)
        return result

    def _unmet_all(self, premises: Sequence[Mapping[str, Any]]) -> list[str]:
        """The rows of several premises the expected parameterization does not hold, each once."""
        return list(dict.fromkeys(row for premise in premises for row in self._unmet(premise)))

    def _unmet(self, when: Mapping[str, Any] | None) -> list[str]:
        """The rows of a premise (a profile subset) the expected parameterization does not hold."""
        wanted = parse_overlay(self.contract, when) if when else {}
        return [f"{row} ({self.contract.rows[row].label}) doit être à {'OUI' if value else 'NON'}"
                for row, value in wanted.items() if self.expected[row] != value]

    # -- steps -------------------------------------------------------------------------
    def _play_step(self, replay: Replay, scenario: ScenarioResult, step: Step) -> StepResult:
        contract_step = step.contract
        replay.target_status = contract_step.status
        return self._play(replay, scenario, STEP, contract_step.action, contract_step.actor, step.inputs,
                          step=step)

    def _play(self, replay: Replay, scenario: ScenarioResult, kind: str, action: str, actor: str,
              inputs: Mapping[str, Any], *, step: Step | None = None, twin: NegativeTwin | None = None,
              title: str = "") -> StepResult:
        rules = step.contract.rules if step else twin.rules if twin else ()
        result = StepResult(scenario.id, scenario.workflow, step.id if step else twin.id if twin else action,
                            actor, action, tuple(rules), kind, title,
                            expected_status=step.contract.status if step else None)
        before = verdicts.observe(self, replay) if kind == ATTEMPT else None
        replies = self._act(replay, result, action, actor, inputs)
        entries, self._entries = self._entries, []
        broken = next((r for r in replies if _system_failure(r)), None)
        if broken is not None:
            return self._system_error(scenario, result, broken, entries)
        if kind == ATTEMPT:
            assert twin is not None and before is not None
            verdicts.judge_attempt(self, replay, result, twin, before, replies)
        else:
            verdicts.judge_step(self, replay, result, step)
        result.checks += verdicts.audit(self, result, kind, entries + self._drain(), twin)
        scenario.steps.append(result)
        self.listener.step_done(result)
        return result

    def _system_error(self, scenario: ScenarioResult, result: StepResult, reply: Reply,
                      entries: list[dict[str, Any]]) -> StepResult:
        """An upstream 5xx or timeout: shown with its status and body; the step's rules not judged."""
        body = reply.body if isinstance(reply.body, str) else json.dumps(reply.body, ensure_ascii=False)
        name = "OpenFlex" if reply.system == "openflex" else "ICAR"
        result.system_error = (f"{name} a répondu {reply.status} à {reply.method} {reply.path} "
                               f"(étape {scenario.id}/{result.step}) : {body[:400]}")
        result.checks.append(Check("réponse du système", False, result.system_error))
        self.auditor.audit(entries + self._drain())  # followed, so later steps are judged right
        scenario.steps.append(result)
        self.listener.step_done(result)
        return result

    def _act(self, replay: Replay, result: StepResult, action: str, actor: str,
             inputs: Mapping[str, Any]) -> list[Reply]:
        """Make the action's calls; return their replies (the step's journal entries stay in _entries)."""
        self._drain()  # what happened before this step (state reads) is not its doing
        self._current, self._replies, self._entries = result, [], []
        try:
            ACTIONS[action](replay, actor, resolve(inputs, replay.values))
        except (UnknownReference, KeyError) as exc:
            result.checks.append(Check("entrées de l'étape", False, f"{type(exc).__name__}: {exc}"))
        except TargetUnreachable as exc:  # a timeout or a connection lost: the run cannot go on
            raise TargetUnreachable(f"{exc} — pendant l'étape {result.scenario}/{result.step}") from exc
        finally:
            self._current = None
        return list(self._replies)

    def _attempt(self, replay: Replay, scenario: ScenarioResult, workflow: Scenario,
                 twin: NegativeTwin) -> StepResult:
        replay.target_status = next(s.contract.status for s in workflow.steps if s.id == twin.instead_of)
        return self._play(replay, scenario, ATTEMPT, twin.action, twin.actor, twin.inputs, twin=twin,
                          title=twin.title)

    # -- the end -------------------------------------------------------------------------
    def _final_checks(self, system_error: bool = False) -> list[Check]:
        if not self.journal_on:
            return [Check("audit croisé des journaux", True, "journaux indisponibles", skipped=True)]
        openflex = self.admin.journal(self._start[0], self.targets.dealer)
        icar = self.icar_admin.journal(self._start[1])
        if not (openflex.ok and icar.ok):
            return [Check("audit croisé des journaux", True, "journal ICAR indisponible", skipped=True)]
        entries = [e for e in (openflex.body.get("items") or []) + (icar.body.get("items") or [])
                   if entry_vehicle_ids(e) & self._own]  # another client's: read in another instant
        return self._mapping_checks(entries) + self._desync_checks(entries, system_error)

    def _mapping_checks(self, entries: list[dict[str, Any]]) -> list[Check]:
        findings = cross_check(self.contract, entries, self.expected)
        name = "ICAR ni en avance ni en retard sur OpenFlex (journaux)"
        if not findings:
            return [Check(name, True, f"{len(entries)} entrées comparées",
                          rule=self.contract.rule_for("status_mapping"))]
        return [Check(name, False, f.describe(), rule=f.rule) for f in findings]

    def _desync_checks(self, entries: list[dict[str, Any]], system_error: bool) -> list[Check]:
        """Rule R10: every ICAR operation OpenFlex refused or never received, reported; one still
        open at the end fails the run — unless the replay itself met a system error (an upstream
        5xx or timeout): the run then has no verdict, and the open operation is shown as its trace."""
        findings = desynchronisations(self.contract, entries)
        rule = self.contract.rule_for("desynchronisation")
        name = "ICAR et OpenFlex synchronisés (journaux)"
        failing = [Check(name, system_error, f.describe(), rule=rule, skipped=system_error)
                   for f in findings if f.kind == DESYNC]
        refused = sum(1 for f in findings if f.kind == DESYNC_REFUSED)
        resolved = sum(1 for f in findings if f.kind == DESYNC_RESOLVED)
        detail = (f"aucune opération ICAR en attente ; {refused} refusée(s) par OpenFlex, rien appliqué "
                  f"dans ICAR ; {resolved} réglée(s) ensuite")
        return failing or [Check(name, True, detail, rule=rule)]


def _system_failure(reply: Reply) -> bool:
    """A 5xx that is not a contract refusal relayed by ICAR (502 UPSTREAM_REFUSED)."""
    code = reply.body.get("code") if isinstance(reply.body, dict) else None
    return reply.status >= 500 and code != "UPSTREAM_REFUSED"
