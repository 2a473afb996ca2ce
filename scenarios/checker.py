"""Audit a journal of real or simulated traffic against the contract, with the rule engine.

For every vehicle write recorded in front of OpenFlex (creation, trade-in estimation,
PATCH) the checker recomputes the violations from the entry's actor, the vehicle as
it was before (`vehicle_before`) and the request body with `icarflex.contracts.evaluate`,
under the parameterization the traffic ran under (the profile, then every accepted
`PUT /settings/api-vo` in the journal). A write that breaks a rule and was
*accepted* (2xx) is a violation: the system failed to enforce the contract. A write
refused (4xx) is listed as an attempt by its actor. When the journal holds both
systems, the ICAR status of each vehicle is compared with its OpenFlex status
through the mapping, at every ICAR answer and at the end: ICAR never ahead, never
behind. The JSON-lines shape is docs/api.md's journal entry.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from icarflex.contracts import ApiVoSettings, Contract, ContractError, evaluate, load_contract
from icarflex.contracts.engine import evaluate_unknown_state
from icarflex.mocks.common.journal_export import CURSOR_KEY

OPENFLEX, ICAR = "openflex", "icar"
VIOLATION, ATTEMPT, STATUS_MISMATCH, REFUSAL_WITHOUT_RULE, UNJUDGED = (
    "violation", "attempt", "status_mismatch", "refusal_without_rule", "unjudged")
# Rule R10: an ICAR operation OpenFlex never received and that is still open at the end
# (DESYNC, failing); one OpenFlex refused (its police number struck in the register: the
# vehicle must be booked again once the cause is fixed); one settled later (replayed, resumed).
DESYNC, DESYNC_REFUSED, DESYNC_RESOLVED = "desynchronisation", "desynchronisation_refused", \
    "desynchronisation_resolved"
FAILING = (VIOLATION, STATUS_MISMATCH, DESYNC)
UPSTREAM_CODES = {"UPSTREAM_UNAVAILABLE": DESYNC, "UPSTREAM_REFUSED": DESYNC_REFUSED}
CREATE_PATH = re.compile(r"^/api/v1/vehicles/?$")
TRADE_IN_PATH = re.compile(r"^/api/v1/opportunities/[^/]+/trade-ins/?$")
VEHICLE_PATH = re.compile(r"^/api/v1/vehicles/(?P<id>[^/]+)/?$")
SETTINGS_PATH = re.compile(r"^/api/v1/settings/api-vo/?$")
ADMIN_SETTINGS_PATH = re.compile(r"^/__admin/settings/(?P<dealer>[^/]+)/?$")
ADMIN_RESET_PATH = re.compile(r"^/__admin/reset/?$")
READS = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class Finding:
    """One thing the audit found, tied to its journal entry."""

    kind: str
    rule: str | None
    field: str | None
    code: str | None
    message: str
    actor: str | None = None
    dealer: str | None = None
    system: str | None = None
    seq: int | None = None
    method: str | None = None
    path: str | None = None
    status: int | None = None
    vehicle_id: str | None = None
    row: str | None = None
    request: Any = None
    label: str | None = None   # the guide's French label of the field (or of the rule)

    @property
    def failing(self) -> bool:
        return self.kind in FAILING

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        where = f"{self.field}" if self.field else (self.row or "")
        call = f"{self.actor} {self.method} {self.path} → {self.status}" if self.method else ""
        return " ".join(p for p in (self.kind, self.rule or "", where, "—", call, f"(seq {self.seq})"
                                    if self.seq is not None else "", ":", self.message) if p)


@dataclass
class Auditor:
    """Audits entries one after the other, keeping each dealer's parameterization."""

    contract: Contract = field(default_factory=load_contract)
    settings: ApiVoSettings | None = None
    per_dealer: dict[str, ApiVoSettings] = field(default_factory=dict)
    known: dict[str, Mapping[str, Any]] = field(default_factory=dict)   # last vehicle seen, by id
    stateless: int = 0   # PATCHes judged without the vehicle's state (status moves not judged)
    judged: int = 0      # entries the contract had something to say about, and was heard on
    out_of_scope: int = 0  # reads and writes no rule restricts (nothing to judge, by design)

    def __post_init__(self) -> None:
        self.settings = self.settings or ApiVoSettings.defaults(self.contract)

    def settings_of(self, dealer: str | None) -> ApiVoSettings:
        assert self.settings is not None
        return self.per_dealer.get(dealer or "", self.settings)

    def audit(self, entries: Iterable[Mapping[str, Any]]) -> list[Finding]:
        return [finding for entry in entries for finding in self.audit_entry(entry)]

    def audit_entry(self, entry: Mapping[str, Any]) -> list[Finding]:
        """The findings of one entry; an entry that cannot be judged is one UNJUDGED finding
        saying why (never skipped silently)."""
        system = entry.get("system", OPENFLEX)
        path, method = entry.get("path") or "", (entry.get("method") or "").upper()
        status = int(entry.get("status") or 0)
        if system not in (OPENFLEX, ICAR):
            return [_unjudged(entry, f"système inconnu {system!r} (attendu {OPENFLEX} ou {ICAR})")]
        if system == ICAR or method in READS:
            self.out_of_scope += 1  # reads; ICAR's answers are compared by the cross-system audit
            if system == OPENFLEX:
                self._remember(entry)  # a vehicle read is the state a later PATCH is judged on
            return []
        if self._follow_admin(entry, path, method):
            self.judged += 1
            return []
        if entry.get("unjudged"):  # its recorder (icarflex proxy) could not read the call's body
            return [_finding(entry, UNJUDGED, None, None, None, str(entry["unjudged"]), None,
                             entry.get("request"))]
        change = _change_of(entry)
        if change is None:
            self.out_of_scope += 1  # a write no rule of the engine restricts (reservation, order…)
            self._remember(entry)
            return []
        if status >= 500 or status < 200:
            return [_unjudged(entry, f"réponse {status} : on ne sait pas si l'écriture a eu lieu")]
        if not entry.get("actor"):
            return [_unjudged(entry, "entrée sans acteur : qui a écrit ne peut être jugé")]
        if isinstance(entry.get("request"), Mapping) and "_raw" in entry["request"]:
            return [_unjudged(entry, "corps de requête illisible (pas du JSON)")]
        self.judged += 1
        return self._judge_write(entry, method, change)

    def _judge_write(self, entry: Mapping[str, Any], method: str, change: dict[str, Any]) -> list[Finding]:
        before = self._state_before(entry, method)
        self._remember(entry)
        settings, actor = self.settings_of(entry.get("dealer")), entry.get("actor") or ""
        if method != "PATCH":
            violations = evaluate(self.contract, settings, actor, None, change)
        elif before is not None:
            violations = evaluate(self.contract, settings, actor, before, change)
        elif int(entry["status"]) == 404:
            return []  # unknown vehicle: nothing was written
        else:
            self.stateless += 1
            violations = evaluate_unknown_state(self.contract, settings, actor, change)
            if "status" in change:
                return [*self._findings(entry, violations, change), _finding(
                    entry, UNJUDGED, None, "status", None, "changement de statut non jugé : état du "
                    "véhicule inconnu (ni vehicle_before ni réponse antérieure)", None, change)]
        return self._findings(entry, violations, change)

    def _follow_admin(self, entry: Mapping[str, Any], path: str, method: str) -> bool:
        """Settings changes (API or admin) and resets change what later entries are judged by."""
        if method == "PUT" and SETTINGS_PATH.match(path):
            self._follow_settings(entry, entry.get("dealer") or "")
        elif method == "PUT" and (match := ADMIN_SETTINGS_PATH.match(path)):
            self._follow_settings(entry, match["dealer"])
        elif method == "POST" and ADMIN_RESET_PATH.match(path):
            if 200 <= int(entry["status"]) < 300:
                self.per_dealer.clear()
                self.known.clear()
        else:
            return False
        return True

    def _state_before(self, entry: Mapping[str, Any], method: str) -> Mapping[str, Any] | None:
        """The vehicle before a PATCH: as journaled, else as last seen in an earlier answer."""
        if method != "PATCH":
            return None
        before = entry.get("vehicle_before")
        if isinstance(before, Mapping):
            return before
        vehicle_id = _vehicle_id(entry)
        return self.known.get(vehicle_id) if vehicle_id else None

    def _remember(self, entry: Mapping[str, Any]) -> None:
        body = entry.get("response")
        if 200 <= int(entry.get("status") or 0) < 300 and isinstance(body, Mapping) and _is_vehicle(body):
            self.known[body["id"]] = body

    def _findings(self, entry: Mapping[str, Any], violations: list[Any], change: Any) -> list[Finding]:
        accepted = 200 <= int(entry["status"]) < 300
        if violations:
            kind = VIOLATION if accepted else ATTEMPT
            return [_finding(entry, kind, v.rule, v.field, v.code, v.message, v.row, change, v.label)
                    for v in violations]
        problem = entry.get("response") if isinstance(entry.get("response"), Mapping) else {}
        if not accepted and problem.get("rule"):
            fields = problem.get("fields") or [None]
            return [_finding(entry, REFUSAL_WITHOUT_RULE, ",".join(problem["rule"]), fields[0],
                             problem.get("code"), "refusé au nom du contrat, mais aucune règle "
                             "n'est enfreinte selon le paramétrage attendu", None, change)]
        return []

    def _follow_settings(self, entry: Mapping[str, Any], dealer: str) -> None:
        if not 200 <= int(entry["status"]) < 300:
            return
        base = ApiVoSettings.defaults(self.contract)
        current = self.settings_of(dealer)
        try:
            response = entry.get("response")
            self.per_dealer[dealer] = (base.merge(response) if _is_full_document(response)
                                       else current.merge(entry.get("request")))
        except ContractError:
            return  # not the shape of our settings: keep what we had


def _unjudged(entry: Mapping[str, Any], reason: str) -> Finding:
    return _finding(entry, UNJUDGED, None, None, None, reason, None, entry.get("request"))


def _is_vehicle(body: Mapping[str, Any]) -> bool:
    return isinstance(body.get("id"), str) and isinstance(body.get("status"), str) and "vin" in body


def _is_full_document(body: Any) -> bool:
    return isinstance(body, Mapping) and {"settings", "fields", "capabilities"} <= set(body)


def _change_of(entry: Mapping[str, Any]) -> dict[str, Any] | None:
    """The change a vehicle write asks for, or None when the entry is no vehicle write."""
    path, method = entry.get("path") or "", (entry.get("method") or "").upper()
    body = entry.get("request")
    if not isinstance(body, Mapping):
        body = {}
    if method == "POST" and CREATE_PATH.match(path):
        return dict(body)
    if method == "POST" and TRADE_IN_PATH.match(path):
        return {**load_contract().vehicle.trade_in_sets, **body}  # OpenFlex sets these, not the app
    if method == "PATCH" and VEHICLE_PATH.match(path):
        return dict(body)
    return None


def _finding(entry: Mapping[str, Any], kind: str, rule: str | None, field: str | None, code: str | None,
             message: str, row: str | None, change: Any, label: str | None = None) -> Finding:
    return Finding(kind, rule, field, code, message, entry.get("actor"), entry.get("dealer"),
                   entry.get("system", OPENFLEX), entry.get("seq"), entry.get("method"), entry.get("path"),
                   entry.get("status"), entry.get("vehicle_id") or _vehicle_id(entry), row, change, label)


def _vehicle_id(entry: Mapping[str, Any]) -> str | None:
    match = VEHICLE_PATH.match(entry.get("path") or "")
    if match:
        return match["id"]
    response = entry.get("response")
    return response.get("id") if isinstance(response, Mapping) and "status" in response else None


# --- cross-system: ICAR never ahead of, never behind OpenFlex -----------------------
def cross_check(contract: Contract, entries: Iterable[Mapping[str, Any]],
                settings: ApiVoSettings | None = None) -> list[Finding]:
    """Compare each ICAR record's status with its OpenFlex vehicle's, through the mapping, under
    the parameterization the traffic ran under (`settings`, then the journal's settings changes,
    followed as the per-entry audit follows them): a step still to be made in OpenFlex under it
    (lifeline.yaml `icar_pending`) is accepted along the journal, and is a finding at its end."""
    follow = Auditor(contract, settings)
    timeline = sorted((e for e in entries if _snapshot(e) or _settings_change(e)), key=_time_key)
    openflex: dict[str, str] = {}
    icar: dict[str, tuple[str, Mapping[str, Any]]] = {}
    findings: list[Finding] = []
    for entry in timeline:
        body = entry["response"]
        if _settings_change(entry):
            follow._follow_admin(entry, entry.get("path") or "", (entry.get("method") or "").upper())
            continue
        if entry.get("system", OPENFLEX) == OPENFLEX:
            openflex[body["id"]] = body["status"]
            continue
        record = _icar_record(body)
        icar[record["openflex_id"]] = (record["status"], entry)
        findings += _compare(contract, record["openflex_id"], record["status"], openflex, entry,
                             follow.settings_of(entry.get("dealer")))
    for vehicle_id, (status, entry) in icar.items():
        settings_now = follow.settings_of(entry.get("dealer"))
        last = _compare(contract, vehicle_id, status, openflex, entry, settings_now, final=True)
        findings += [f for f in last if f not in findings]
    return findings


def _settings_change(entry: Mapping[str, Any]) -> bool:
    """An OpenFlex entry that changes what later entries are judged by (settings, a reset)."""
    path, method = entry.get("path") or "", (entry.get("method") or "").upper()
    return entry.get("system", OPENFLEX) == OPENFLEX and (
        (method == "PUT" and bool(SETTINGS_PATH.match(path) or ADMIN_SETTINGS_PATH.match(path)))
        or (method == "POST" and bool(ADMIN_RESET_PATH.match(path))))


def desynchronisations(contract: Contract, entries: Iterable[Mapping[str, Any]]) -> list[Finding]:
    """Rule R10 (inferred): each ICAR operation (an outbox operation: booked in ICAR, maybe with
    a police number) that OpenFlex refused or never received, and whether it was settled later:
    replayed or resumed (its operation then DONE), or the record's next operation accepted."""
    rule = contract.rule_for("desynchronisation")
    open_ops: dict[int, tuple[str, Mapping[str, Any]]] = {}
    settled: set[int] = set()
    for entry in sorted((e for e in entries if e.get("system") == ICAR), key=_time_key):
        body = entry.get("response") if isinstance(entry.get("response"), Mapping) else {}
        status = int(entry.get("status") or 0)
        kind = UPSTREAM_CODES.get(str(body.get("code")))
        if kind is not None and isinstance(body.get("operation_id"), int):
            open_ops[body["operation_id"]] = (kind, entry)
        elif 200 <= status < 300 and (entry.get("method") or "").upper() != "GET":
            settled |= _settled_by(body, entry, open_ops)
    findings = []
    for op_id, (kind, entry) in open_ops.items():
        done = op_id in settled
        what = {DESYNC: "jamais reçue par OpenFlex", DESYNC_REFUSED: "refusée par OpenFlex"}[kind]
        message = (f"opération ICAR {op_id} ({entry.get('path')}) {what}"
                   + (" : réglée ensuite" if done else
                      " : toujours en attente, à rejouer (même N° de police)" if kind == DESYNC else
                      " : rien n'en est appliqué dans ICAR (un N° de police pris reste rayé au livre "
                      "de police), à refaire une fois la cause corrigée"))
        findings.append(Finding(DESYNC_RESOLVED if done else kind, rule, None, (entry.get("response") or {})
                                .get("code"), message, entry.get("actor"), entry.get("dealer"), ICAR,
                                entry.get("seq"), entry.get("method"), entry.get("path"), entry.get("status"),
                                entry.get("vehicle_id"), label=contract.rules[rule].title))
    return findings


def _settled_by(body: Mapping[str, Any], entry: Mapping[str, Any],
                open_ops: Mapping[int, tuple[str, Mapping[str, Any]]]) -> set[int]:
    """The open operations an accepted ICAR call settled: the one its answer names DONE (a replay,
    a resume), or every open one of the same record (the next call on a record settles it first;
    a refused one is settled when the same operation is accepted there)."""
    done = {op.get("id") for op in _operations(body) if op.get("state") == "DONE"}
    record = entry.get("vehicle_id")
    for op_id, (kind, failed) in open_ops.items():
        if record is not None and failed.get("vehicle_id") == record and (
                kind == DESYNC or failed.get("path") == entry.get("path")):
            done.add(op_id)
    return {op_id for op_id in done if isinstance(op_id, int)}


def _operations(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = [body["operation"]] if isinstance(body.get("operation"), Mapping) else []
    return found + [item for item in body.get("items") or [] if isinstance(item, Mapping)]


def _snapshot(entry: Mapping[str, Any]) -> bool:
    body = entry.get("response")
    if not 200 <= int(entry.get("status") or 0) < 300 or not isinstance(body, Mapping):
        return False
    if entry.get("system", OPENFLEX) == OPENFLEX:
        return isinstance(body.get("id"), str) and isinstance(body.get("status"), str) and "vin" in body
    record = _icar_record(body)
    return isinstance(record.get("openflex_id"), str) and isinstance(record.get("status"), str)


ABOUT_VEHICLE = re.compile(r"^/api/v1/vehicles/(?P<id>[^/]+)")  # a vehicle's path, or one below it


def entry_vehicle_ids(entry: Mapping[str, Any]) -> set[str]:
    """The vehicle ids an entry is about, on either system: OpenFlex's, and ICAR's record with the
    OpenFlex vehicle it follows (from the entry, its path and its answer)."""
    response = entry.get("response") if isinstance(entry.get("response"), Mapping) else {}
    record = _icar_record(response)
    path = ABOUT_VEHICLE.match(entry.get("path") or "")
    found = (entry.get("vehicle_id"), path["id"] if path else None, response.get("id"),
             record.get("id"), record.get("openflex_id"))
    return {str(v) for v in found if v}


def _icar_record(body: Mapping[str, Any]) -> Mapping[str, Any]:
    """The DMS record an ICAR answer shows: itself, or the `record` of a replay's answer."""
    record = body.get("record")
    return record if "openflex_id" not in body and isinstance(record, Mapping) else body


def _time_key(entry: Mapping[str, Any]) -> tuple[str, int, int]:
    # A push to OpenFlex ends before the ICAR answer that caused it: OpenFlex first on a tie.
    system = 0 if entry.get("system", OPENFLEX) == OPENFLEX else 1
    return (entry.get("at") or "", system, entry.get("seq") or 0)


def _compare(contract: Contract, vehicle_id: str, icar_status: str, openflex: Mapping[str, str],
             entry: Mapping[str, Any], settings: ApiVoSettings, final: bool = False) -> list[Finding]:
    current = openflex.get(vehicle_id)
    if current is None or current not in contract.statuses:
        return []
    allowed = contract.icar_statuses_for(current, settings, final=final)
    if icar_status in allowed:
        return []
    pending = contract.pending_mapping(current, icar_status, settings)
    if pending is not None:  # only at the end: the step left to OpenFlex was never made
        rows = contract.rows_fr(pending.when)
        message = (f"ICAR {icar_status}, OpenFlex {current} en fin de journal : {pending.reason} ({rows}) ; "
                   f"le passage en {pending.until} n'a jamais été fait dans OpenFlex")
    else:
        order = list(contract.icar_statuses)
        way = "en avance sur" if order.index(icar_status) > order.index(allowed[0]) else "en retard sur"
        message = (f"ICAR {icar_status} {way} OpenFlex {current} (attendu {' ou '.join(allowed)})"
                   + (" en fin de journal" if final else ""))
    rule = contract.rule_for("status_mapping")
    return [Finding(STATUS_MISMATCH, rule, "status", None, message, entry.get("actor"), entry.get("dealer"),
                    ICAR, entry.get("seq"), entry.get("method"), entry.get("path"), entry.get("status"),
                    vehicle_id, label=contract.rules[rule].title)]


# --- a whole journal ------------------------------------------------------------------
class JournalCut(ValueError):
    """A bounded export: its last line is a cursor, the journal goes on after it."""


def read_journal(lines: Iterable[str]) -> list[dict[str, Any]]:
    """JSON lines (blank lines skipped); a `{"items": [...]}` page of /__admin/journal works too.

    Raises ValueError naming the line of anything that is not a journal entry, and
    `JournalCut` on a bounded export's cursor line (or a page saying `more`)."""
    entries: list[dict[str, Any]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"ligne {number} : pas du JSON ({exc.msg})") from exc
        cursor = item.get(CURSOR_KEY) if isinstance(item, dict) else None
        if isinstance(item, dict) and (cursor or item.get("more")):
            after = (cursor or item).get("next_after")
            raise JournalCut(f"ligne {number} : export tronqué, la suite commence après la séquence "
                             f"{after} (GET /__admin/journal?format=jsonl&after={after})")
        items = item["items"] if isinstance(item, dict) and "items" in item else [item]
        for entry in items:
            _check_entry(entry, number)
        entries += items
    return entries


def _check_entry(entry: Any, number: int) -> None:
    """A journal entry is an object with at least method, path and status (docs/api.md)."""
    if not isinstance(entry, dict):
        raise ValueError(f"ligne {number} : une entrée de journal est un objet JSON, "
                         f"pas {type(entry).__name__}")
    missing = [k for k in ("method", "path", "status") if k not in entry]
    if missing:
        raise ValueError(f"ligne {number} : entrée de journal sans {', '.join(missing)}")
    if not isinstance(entry["status"], int) or isinstance(entry["status"], bool):
        raise ValueError(f"ligne {number} : status doit être un entier, pas {entry['status']!r}")


def check_journal(entries: list[Mapping[str, Any]], settings: ApiVoSettings | None = None,
                  contract: Contract | None = None) -> list[Finding]:
    """Every finding of a journal: per-entry audit, then the cross-system comparison."""
    return audit_journal(entries, settings, contract)[0]


def audit_journal(entries: list[Mapping[str, Any]], settings: ApiVoSettings | None = None,
                  contract: Contract | None = None) -> tuple[list[Finding], Auditor]:
    """The findings, and the auditor that made them (what it judged, what it could not)."""
    contract = contract or load_contract()
    auditor = Auditor(contract, settings)
    findings = auditor.audit(entries)
    if any(e.get("system") == ICAR for e in entries):
        findings += cross_check(contract, entries, settings) + desynchronisations(contract, entries)
    return findings, auditor
