"""Setup mistakes named as such, before any contract verdict (exit 2, one line each).

Before `run`/`verify` replay anything against named targets: each URL has a scheme; something
answers there; it is the system its flag says — each fake says what it is at
`/__admin/health`, a real system is recognised by its API's shape — so two swapped URLs are
named as swapped; every key given is accepted; and the admin key reads the journals unless
`--no-audit`. A port `serve` cannot bind is named with its flag.
"""
from __future__ import annotations

import errno
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import orjson
from icarflex.mocks.common.transport import Answer, Transport, TransportError

TIMEOUT = 5.0
NAMES = {"openflex": "OpenFlex", "icar": "ICAR"}
FLAGS = {"openflex": "--openflex-url", "icar": "--icar-url"}
# A cheap authenticated read per system, and what a body of that system holds.
PROBES = {"openflex": ("/api/v1/settings/api-vo", {"settings", "fields", "capabilities"}),
          "icar": ("/api/v1/vehicles?limit=1", {"items"})}
ACTORS = {"openflex": ("openflex_user", "dms", "mobile_app"), "icar": ("icar",)}


class SetupError(Exception):
    """A target or a flag that cannot work as given (exit 2)."""


@dataclass
class Target:
    system: str     # what the flag says it is
    url: str
    probe: str | None = None  # its own cheap read, when a wire mapping moves it
    transport: Transport | None = field(default=None, repr=False)

    def get(self, path: str, key: str | None = None) -> Answer:
        if self.transport is None:  # the one transport of icarflex's clients (CA bundle, proxies)
            self.transport = Transport(self.url, timeout=TIMEOUT)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return self.transport.request("GET", path, headers=headers)

    def probe_path(self, system: str) -> str:
        return self.probe if self.probe and system == self.system else PROBES[system][0]


def check_targets(openflex_url: str, icar_url: str, keys: Mapping[str, str], *, audit: bool,
                  openflex_settings_path: str | None = None) -> None:
    """Raise `SetupError` naming the first setup mistake; return when both targets are usable.
    `openflex_settings_path`: where OpenFlex serves its parameterization (a wire mapping's)."""
    targets = [Target("openflex", openflex_url, openflex_settings_path), Target("icar", icar_url)]
    for target in targets:
        _has_scheme(target)
    try:
        _check(targets, keys, audit)
    finally:
        for target in targets:
            if target.transport is not None:
                target.transport.close()


def _check(targets: list[Target], keys: Mapping[str, str], audit: bool) -> None:
    openflex, icar = targets
    said = {t.system: _identity(t, keys) for t in targets}
    if said == {"openflex": "icar", "icar": "openflex"}:
        raise SetupError(f"les deux URL sont inversées : --openflex-url {openflex.url} est le fake ICAR, "
                         f"--icar-url {icar.url} le fake OpenFlex")
    for target in targets:
        if said[target.system] not in (target.system, None):
            other = NAMES[said[target.system] or ""]
            raise SetupError(f"{FLAGS[target.system]} {target.url} est le fake {other}, "
                             f"pas {NAMES[target.system]}")
    for target in targets:
        for actor in ACTORS[target.system]:
            if keys.get(actor):
                _key_accepted(target, actor, keys[actor])
    if audit:
        for target in targets:
            _admin_reads_journal(target, keys.get("admin") or "")


def _has_scheme(target: Target) -> None:
    parts = urlsplit(target.url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SetupError(f"{FLAGS[target.system]} {target.url!r} : URL sans schéma "
                         f"(écrire http://{target.url.split('://')[-1]})")


def _get(target: Target, path: str, key: str | None = None) -> Answer:
    try:
        return target.get(path, key)
    except TransportError as exc:
        flag = FLAGS[target.system]
        if exc.timed_out:
            raise SetupError(f"{target.url} ({flag}) ne répond pas en {TIMEOUT:.0f} s") from exc
        if "SSL" in str(exc):
            raise SetupError(f"{target.url} ({flag}) : échec TLS ({exc}) — ICARFLEX_CA_BUNDLE nomme "
                             "l'autorité de certification à croire") from exc
        raise SetupError(f"rien n'écoute sur {target.url} ({flag}) : lancez "
                         "« icarflex serve » ou corrigez l'URL") from exc


def _json(reply: Answer) -> object:
    try:
        return orjson.loads(reply.content)
    except orjson.JSONDecodeError:
        return None


def _identity(target: Target, keys: Mapping[str, str]) -> str | None:
    """The system a target says it is (`/__admin/health` of a fake); None: a real system of the
    right shape. Raises when it answers like neither."""
    health = _json(_get(target, "/__admin/health"))
    if isinstance(health, dict) and health.get("system") in NAMES:
        return str(health["system"])
    own = target.system
    other = "icar" if own == "openflex" else "openflex"
    reply = _probe(target, own, keys)
    if reply.status in (401, 403):
        _key_accepted(target, ACTORS[own][0], keys.get(ACTORS[own][0]) or "")
    if _shaped(reply, own):
        return None
    if _shaped(_probe(target, other, keys), other):
        return other
    kind = (reply.header("Content-Type") or "?").split(";")[0]
    raise SetupError(f"{target.url} ({FLAGS[own]}) ne ressemble pas à une API {NAMES[own]} "
                     f"d'icarflex : GET {PROBES[own][0]} → {reply.status} {kind}")


def _probe(target: Target, system: str, keys: Mapping[str, str]) -> Answer:
    return _get(target, target.probe_path(system), keys.get(ACTORS[system][0]))


def _shaped(reply: Answer, system: str) -> bool:
    body = _json(reply)
    return reply.status == 200 and isinstance(body, dict) and PROBES[system][1] <= set(body)


def _key_accepted(target: Target, actor: str, key: str) -> None:
    path = target.probe_path(target.system)
    reply = _get(target, path, key)
    if reply.status in (401, 403):
        body = _json(reply)
        code = body.get("code", "") if isinstance(body, dict) else ""
        raise SetupError(f"clé refusée par {NAMES[target.system]} : {key or '(aucune)'} ({actor}) → "
                         f"{reply.status} {code}".rstrip())


def _admin_reads_journal(target: Target, key: str) -> None:
    reply = _get(target, "/__admin/journal?limit=1", key)
    if reply.status != 200:
        raise SetupError(f"journal {NAMES[target.system]} illisible avec la clé admin {key or '(aucune)'} "
                         f"({reply.status}) : l'audit du trafic ne peut pas se faire — donnez "
                         "--admin-key, ou --no-audit pour s'en passer")


def check_ports(host: str, ports: Mapping[str, int]) -> None:
    """Each port `serve` needs is free (port 0: any); a busy one is named with its flag."""
    for flag, port in ports.items():
        if not port:
            continue
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise SetupError(f"le port {port} ({flag}) est déjà utilisé sur {host} : arrêtez ce "
                                     f"qui l'occupe ou choisissez-en un autre ({flag} N)") from exc
                raise SetupError(f"{host}:{port} ({flag}) : {exc.strerror}") from exc
