"""App configuration: defaults, then `ICARFLEX_*` environment variables, then the given mapping.

This is the one module that reads the environment (STYLE §6).
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ENV_PREFIX = "ICARFLEX_"

DEFAULTS: dict[str, Any] = {
    "DB": None,                   # SQLite path; None: a temporary file owned by the app
    "PROFILE": None,              # profile YAML laid over the guide's defaults
    "JOURNAL_LIMIT": 10_000,      # entries kept; the oldest are dropped past it
    "MAX_CONTENT_LENGTH": 256 * 1024,
    "SEED": 2025,
    "KEYS": None,                 # {key: {"actor": ..., "dealer": ...}}; None: the fake's demo keys
}

# Keys read from the environment and how to parse them.
_PARSERS = {"JOURNAL_LIMIT": int, "MAX_CONTENT_LENGTH": int, "SEED": int, "KEYS": json.loads}


def load_config(overrides: Mapping[str, Any] | None, extra_defaults: Mapping[str, Any]) -> dict[str, Any]:
    config = {**DEFAULTS, **extra_defaults}
    for name in config:
        raw = os.environ.get(ENV_PREFIX + name)
        if raw is not None:
            config[name] = _PARSERS.get(name, str)(raw)
    config.update(overrides or {})
    return config


def default_db_path(system: str) -> Path:
    """The demo database under the user's data folder (XDG), so a demo survives a restart."""
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "icarflex" / f"{system}.sqlite3"
