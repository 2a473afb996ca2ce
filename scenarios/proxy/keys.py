"""Who calls: the API keys the proxy knows, each mapped to an actor and a dealer (DESIGN §1).

The proxy never asks the target who a key is: it is told, by a keys file, or by a
`keys:` section of its profile, in the fakes' `KEYS` shape (`{key: {actor, dealer}}`, or
`{key: actor}` for the dealer `demo`). Without either, the fakes' demo keys. The profile
itself (every other section) is the parameterization the proxy judges by.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from icarflex.contracts import ApiVoSettings, Contract, ProfileError
from icarflex.scenarios.proxy.judge import Identity

DEFAULT_DEALER = "demo"


class KeysError(ValueError):
    """A keys file or section that does not fit; the message names the file and the key."""


def _read(path: str | Path, what: str) -> Any:
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise KeysError(f"{what} {path}: {exc}") from exc


def parse_keys(raw: Any, source: str, actors: Mapping[str, Any] | None) -> dict[str, Identity]:
    """`actors`: the names a key may map to (the contract's, in front of OpenFlex); None: any."""
    if not isinstance(raw, Mapping):
        raise KeysError(f"{source}: expected a mapping of keys to {{actor, dealer}}")
    keys: dict[str, Identity] = {}
    for key, value in raw.items():
        entry = {"actor": value} if isinstance(value, str) else value
        if not isinstance(entry, Mapping) or not isinstance(entry.get("actor"), str):
            raise KeysError(f"{source}: {key}: expected an actor name or {{actor, dealer}}")
        if actors is not None and entry["actor"] not in actors:
            raise KeysError(f"{source}: {key}: unknown actor {entry['actor']!r} "
                            f"(one of {', '.join(actors)})")
        keys[str(key)] = Identity(entry["actor"], str(entry.get("dealer") or DEFAULT_DEALER))
    return keys


def load_profile_and_keys(path: str | None, contract: Contract) -> tuple[ApiVoSettings, dict[str, Identity]]:
    """The parameterization of the profile at `path` (the guide's defaults without one) and its keys."""
    base = ApiVoSettings.defaults(contract)
    if path is None:
        return base, {}
    raw = _read(path, "profile") or {}
    if not isinstance(raw, Mapping):
        raise ProfileError([("(root)", "expected a mapping with settings, fields, capabilities")], path)
    overlay = {k: v for k, v in raw.items() if k != "keys"}
    keys = parse_keys(raw["keys"], f"{path}: keys", contract.actors) if "keys" in raw else {}
    return base.merge(overlay, source=path), keys


def load_keys(path: str | None, from_profile: Mapping[str, Identity], system: str,
              contract: Contract) -> dict[str, Identity]:
    """The keys file, else the profile's keys, else the demo keys of the fake of `system`."""
    if path is not None:
        return parse_keys(_read(path, "keys"), path, contract.actors if system == "openflex" else None)
    if from_profile:
        return dict(from_profile)
    return {key: Identity(entry["actor"], entry["dealer"]) for key, entry in demo_keys(system).items()}


def demo_keys(system: str) -> dict[str, dict[str, str]]:
    from icarflex.mocks.common.auth import demo_keys as build

    if system == "icar":
        return build({"icar": "icar_user"})
    from icarflex.mocks.openflex.app import DEMO_ACTORS

    return build(DEMO_ACTORS)
