"""A dealer of one's own on both fakes: its keys, its profile, faults, and the verdict of its traffic.

`Sandbox.create(openflex_url, icar_url, admin_key)` makes a scratch dealer through
`POST /__admin/dealers` on both fakes (icarflex.mocks.common.dealers), so whatever it
does — flip a row of its parameterization, create vehicles — touches nobody else's
data. The pytest plugin gives one to each test, the runner one to each negative twin
that must flip a setting, the Pact verifier one to each provider state.

`audit()` reads that dealer's journals on both fakes and judges them with the checker:
every request the contract forbids is a violation of the connector under test, whether
the fake refused it or not (a refused forbidden write is still the connector's fault).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from icarflex.contracts import ApiVoSettings, load_contract, load_profile
from icarflex.mocks.common.transport import Answer, Transport, TransportError, encode_json
from icarflex.scenarios.checker import ATTEMPT, STATUS_MISMATCH, UNJUDGED, VIOLATION, Auditor, cross_check

TIMEOUT = 15.0
FORBIDDEN = (VIOLATION, ATTEMPT, STATUS_MISMATCH)


class SandboxUnavailable(RuntimeError):
    """The target gives no scratch dealer (no /__admin/dealers, or the admin key is refused)."""


@dataclass(frozen=True)
class Violation:
    """A request the contract forbids: the rule, the field, its French label, the request."""

    rule: str | None
    field: str | None
    label: str
    message: str
    refused: bool                  # the fake refused it (a 4xx): still the connector's fault
    request: dict[str, Any]        # system, actor, method, path, body, status

    def __str__(self) -> str:
        how = "refusée" if self.refused else "ACCEPTÉE"
        return (f"{self.rule} {self.field or ''} ({self.label}) : {self.message} — {how} : "
                f"{self.request.get('actor')} {self.request.get('method')} {self.request.get('path')} "
                f"→ {self.request.get('status')}")


@dataclass(frozen=True)
class Verdict:
    ok: bool
    violations: list[Violation]
    entries: int                   # journal entries read (both fakes)
    unjudged: list[str] = field(default_factory=list)  # entries the checker could not judge, with why

    def __str__(self) -> str:
        lines = [f"{len(self.violations)} violation(s) sur {self.entries} entrée(s) de journal"]
        lines += [f"  ✗ {v}" for v in self.violations]
        lines += [f"  ? non jugé : {reason}" for reason in self.unjudged]
        return "\n".join(lines)


def resolve_profile(profile: str | Path | Mapping[str, Any] | None) -> ApiVoSettings:
    """A profile as a mapping (overlay), a file path, or the name of a shipped profile."""
    if isinstance(profile, Mapping):
        return ApiVoSettings.defaults(load_contract()).merge(dict(profile), source="profil")
    from icarflex.profiles import path_of

    return load_profile(path_of(str(profile)) if profile is not None else None)


class Sandbox:
    """One scratch dealer on both fakes, driven with the admin key (its own keys in `keys`)."""

    # Where OpenFlex serves its parameterization (a wire mapping's path, when the runner has one).
    settings_path = "/api/v1/settings/api-vo"

    def __init__(self, openflex_url: str, icar_url: str, admin_key: str, dealer: str,
                 openflex_keys: Mapping[str, str], icar_keys: Mapping[str, str]) -> None:
        self.openflex_url, self.icar_url = openflex_url.rstrip("/"), icar_url.rstrip("/")
        self.admin_key, self.dealer = admin_key, dealer
        self._own_admin = {"openflex": openflex_keys.get("admin"), "icar": icar_keys.get("admin")}
        # actor id → key, for this dealer only (the dealer's own admin key stays with the sandbox)
        self.keys = {**{a: k for a, k in openflex_keys.items() if a != "admin"},
                     **{a: k for a, k in icar_keys.items() if a != "admin"}}
        self._transports = {"openflex": Transport(self.openflex_url, timeout=TIMEOUT),
                            "icar": Transport(self.icar_url, timeout=TIMEOUT)}
        self._faulted: set[str] = set()
        self.initial = ApiVoSettings.defaults(load_contract())  # what it was served at creation

    @classmethod
    def create(cls, openflex_url: str, icar_url: str, admin_key: str,
               settings: Mapping[str, Any] | None = None) -> Sandbox:
        """A new dealer on OpenFlex (with `settings`, an overlay), then the same on ICAR."""
        body: dict[str, Any] = {} if settings is None else {"settings": dict(settings)}
        openflex = _post_dealer(openflex_url, admin_key, body, "OpenFlex")
        icar = _post_dealer(icar_url, admin_key, {"dealer": openflex["dealer"]}, "ICAR")
        sandbox = cls(openflex_url, icar_url, admin_key, openflex["dealer"], openflex["keys"], icar["keys"])
        if openflex.get("settings"):
            sandbox.initial = sandbox.initial.merge(openflex["settings"], source="POST /__admin/dealers")
        return sandbox

    def url(self, system: str) -> str:
        return self.openflex_url if system == "openflex" else self.icar_url

    def _call(self, system: str, method: str, path: str, key: str | None, body: Any = None,
              params: Mapping[str, Any] | None = None) -> Answer:
        return _send(self._transports[system], method, path, key, body, params)

    # -- the dealer's parameterization and the fakes' faults ------------------------------
    def settings(self) -> ApiVoSettings:
        reply = self._call("openflex", "GET", self.settings_path, self.keys["openflex_user"])
        if reply.status != 200:
            raise SandboxUnavailable(f"paramétrage OpenFlex illisible : {reply.status} {_text(reply)}")
        return ApiVoSettings.defaults(load_contract()).merge(_json(reply), source="GET /settings/api-vo")

    def set_profile(self, profile: str | Path | Mapping[str, Any] | None) -> dict[str, Any]:
        """Serve `profile` (guide defaults + overlay, a file, or a shipped profile's name) to this
        dealer alone, through `PUT /api/v1/settings/api-vo` with its own admin key: the journal
        records the change, so the audit judges what follows under the new parameterization."""
        document = resolve_profile(profile).to_json()
        own_admin = self._own_admin["openflex"]
        reply = self._call("openflex", "PUT", self.settings_path, own_admin, document)
        if reply.status != 200:
            raise SandboxUnavailable(f"profil refusé par OpenFlex : {reply.status} {_text(reply)}")
        return _json(reply)

    def inject_faults(self, system: str = "openflex", **faults: Any) -> dict[str, Any]:
        """`PUT /__admin/faults` on one fake (`latency_ms`, `error_rate`, `error_status`, `paths`,
        `methods`, `count`); the faults apply to every dealer of that fake until `clear_faults`."""
        reply = self._call(system, "PUT", "/__admin/faults", self.admin_key, dict(faults))
        if reply.status != 200:
            raise SandboxUnavailable(f"fautes refusées par {system} : {reply.status} {_text(reply)}")
        self._faulted.add(system)
        return _json(reply)

    def clear_faults(self) -> None:
        for system in sorted(self._faulted):
            self._call(system, "PUT", "/__admin/faults", self.admin_key, {})
        self._faulted.clear()

    # -- the verdict ------------------------------------------------------------------------
    def journal(self, system: str = "openflex") -> list[dict[str, Any]]:
        """Every journal entry of this dealer on one fake (JSON lines, streamed whole)."""
        reply = self._call(system, "GET", "/__admin/journal", self.admin_key,
                           params={"dealer": self.dealer, "format": "jsonl"})
        if reply.status != 200:
            raise SandboxUnavailable(f"journal {system} illisible : {reply.status} {_text(reply)}")
        return [json.loads(line) for line in reply.content.decode().splitlines() if line.strip()]

    def audit(self) -> Verdict:
        """The contract's verdict on this dealer's traffic so far (both fakes)."""
        contract = load_contract()
        openflex, icar = self.journal("openflex"), self.journal("icar")
        auditor = Auditor(contract, ApiVoSettings.defaults(contract))
        auditor.per_dealer[self.dealer] = self.initial  # later changes are in the journal
        findings = auditor.audit(openflex) + cross_check(contract, openflex + icar, self.initial)
        violations = [_violation(f) for f in findings if f.kind in FORBIDDEN]
        unjudged = [f.describe() for f in findings if f.kind == UNJUDGED]
        return Verdict(not violations, violations, len(openflex) + len(icar), unjudged)

    @property
    def runner_keys(self) -> dict[str, str]:
        """Its keys as a runner's `Targets` take them: each actor's, its own admin key, and
        `icar` for the ICAR user."""
        return {**self.keys, "admin": self.own_admin_key, "icar": self.keys.get("icar_user", "")}

    @property
    def own_admin_key(self) -> str:
        """The dealer's own admin key on OpenFlex (its back-office: `PUT /settings/api-vo`)."""
        return self._own_admin["openflex"] or ""

    def withdraw(self) -> None:
        """Withdraw the dealer's keys on both fakes (what it created stays, unreachable)."""
        for system in ("openflex", "icar"):
            try:
                self._call(system, "DELETE", f"/__admin/dealers/{self.dealer}", self.admin_key)
            except TransportError:
                pass  # a fake gone already: nothing left to withdraw from
        self.close()

    def close(self) -> None:
        try:
            self.clear_faults()
        finally:
            for transport in self._transports.values():
                transport.close()


def _send(transport: Transport, method: str, path: str, key: str | None, body: Any = None,
          params: Mapping[str, Any] | None = None) -> Answer:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    data = None if body is None else encode_json(body)
    return transport.request(method, path, body=data, headers=headers, params=params)


def _json(reply: Answer) -> Any:
    return json.loads(reply.content)


def _text(reply: Answer) -> str:
    return reply.content.decode("utf-8", "replace")[:300]


def _post_dealer(url: str, admin_key: str, body: Mapping[str, Any], system: str) -> dict[str, Any]:
    transport = Transport(url, timeout=TIMEOUT)
    try:
        reply = _send(transport, "POST", "/__admin/dealers", admin_key, dict(body))
    except TransportError as exc:
        raise SandboxUnavailable(f"{system} {url} ne répond pas : {exc}") from exc
    finally:
        transport.close()
    if reply.status == 404:
        raise SandboxUnavailable(f"{system} {url} ne crée pas de concessionnaire de travail "
                                 "(POST /__admin/dealers absent)")
    if reply.status in (401, 403):
        raise SandboxUnavailable(f"{system} {url} refuse la clé admin ({reply.status}) : "
                                 "pas de concessionnaire de travail")
    if reply.status != 201:
        raise SandboxUnavailable(f"{system} {url} : POST /__admin/dealers → {reply.status} {_text(reply)}")
    return _json(reply)


def _violation(finding: Any) -> Violation:
    request = {"system": finding.system, "actor": finding.actor, "method": finding.method,
               "path": finding.path, "body": finding.request, "status": finding.status, "seq": finding.seq}
    refused = finding.status is not None and not 200 <= int(finding.status) < 300
    return Violation(finding.rule, finding.field, finding.label or "", finding.message,
                     refused and finding.kind != STATUS_MISMATCH, request)
