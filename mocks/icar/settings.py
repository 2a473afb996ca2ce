"""The ICAR fake's own configuration keys, read once from the app config into typed values.

OPENFLEX_URL: where the connector calls the OpenFlex API VO. DMS_KEY: the key it uses
there — a string for every dealer (`{dealer}` is replaced), or a mapping dealer → key
(dealers not in it use `{dealer}-dms-key`). SITE_CODES: dealer → site code of its
livre de police (dealers not in it: their name, upper-cased). SYNC_RETRIES,
SYNC_TIMEOUT (seconds), SYNC_BACKOFF (seconds before the first retry, doubled each time).
OPENFLEX_CA_BUNDLE: the CA bundle an https OpenFlex's certificate is checked against (None:
the one named by the environment, else the system's; `icarflex.mocks.common.transport`).
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from icarflex.mocks.common.wire import WireMapping, load_mapping

DEFAULT_DMS_KEY = "{dealer}-dms-key"

DEFAULTS: dict[str, Any] = {
    "OPENFLEX_URL": "http://127.0.0.1:8081",
    "DMS_KEY": DEFAULT_DMS_KEY,
    "SITE_CODES": {"demo": "PARIS16", "demo2": "LYON03"},
    "SYNC_RETRIES": 3,
    "SYNC_TIMEOUT": 5.0,
    "SYNC_BACKOFF": 0.2,
    "OPENFLEX_CA_BUNDLE": None,
    "OPENFLEX_MAPPING": None,   # a wire mapping file (mocks/common/wire.py): OpenFlex's paths and JSON names
}


@dataclass(frozen=True)
class IcarSettings:
    openflex_url: str
    dms_key: str | Mapping[str, str]
    site_codes: Mapping[str, str]
    retries: int
    timeout: float
    backoff: float
    ca_bundle: str | None = None
    mapping: WireMapping = field(default_factory=WireMapping)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> IcarSettings:
        return cls(openflex_url=str(config["OPENFLEX_URL"]).rstrip("/"),
                   dms_key=_mapping_or_text(config["DMS_KEY"]),
                   site_codes=_mapping_or_text(config["SITE_CODES"]) or {},
                   retries=max(0, int(config["SYNC_RETRIES"])), timeout=float(config["SYNC_TIMEOUT"]),
                   backoff=max(0.0, float(config["SYNC_BACKOFF"])),
                   ca_bundle=config.get("OPENFLEX_CA_BUNDLE") or None,
                   mapping=load_mapping(config.get("OPENFLEX_MAPPING") or None))

    def key_for(self, dealer: str) -> str:
        if isinstance(self.dms_key, Mapping):
            return self.dms_key.get(dealer) or DEFAULT_DMS_KEY.format(dealer=dealer)
        return self.dms_key.replace("{dealer}", dealer)

    def site_for(self, dealer: str) -> str:
        if isinstance(self.site_codes, Mapping) and dealer in self.site_codes:
            return self.site_codes[dealer]
        return re.sub(r"[^A-Z0-9]", "", dealer.upper())[:12] or "SITE"


def _mapping_or_text(value: Any) -> Any:
    """Values from the environment arrive as text: a JSON object becomes a mapping."""
    if isinstance(value, str) and value.lstrip().startswith("{") and not value.startswith("{dealer}"):
        return json.loads(value)
    return value
