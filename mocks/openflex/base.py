"""What every part of the OpenFlex backend shares: the store, the contract, the reference
table, the served profile and the journal hook. No Flask here (STYLE §1, §4)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from icarflex.contracts import ApiVoSettings, Contract
from icarflex.mocks.common.cache import BoundedCache
from icarflex.mocks.common.combining import Combiner
from icarflex.mocks.common.store import Store
from icarflex.mocks.openflex.reference import ReferenceTable

Audit = Callable[..., None]
CACHE_SIZE = 4096  # vehicles whose parsed JSON is kept (memory stays bounded under any load)


def no_audit(**_: Any) -> None:
    """Outside a request nothing is journaled."""


class BackendBase:
    def __init__(self, store: Store, contract: Contract, profile: ApiVoSettings,
                 reference: ReferenceTable, audit: Audit = no_audit, default_seed: int = 2025) -> None:
        self.store = store
        self.contract = contract
        self.profile = profile        # the served profile: every dealer's base parameterization
        self.reference = reference
        self.audit = audit            # adds vehicle_before / vehicle_id / verdict to the journal entry
        self.default_seed = default_seed
        # Parsed state, each entry valid for one stamp: a vehicle's JSON by id for one version (known
        # current at a store generation), settings by overlay text.
        self.vehicle_cache: BoundedCache[str, tuple[int, dict[str, Any], int]] = BoundedCache(CACHE_SIZE)
        self.settings_cache: BoundedCache[str | None, ApiVoSettings] = BoundedCache(64)
        # A dealer's stored settings overlay, read at a store generation (a hint unless still current).
        self.overlay_seen: BoundedCache[str, tuple[str | None, int]] = BoundedCache(1024)
        self.writes = Combiner()  # PATCHes of a vehicle not known current: grouped, stored at once
        self._unsaved: dict[str, Any] = {}  # vehicle id → its answered writes not yet stored (state lock)

    def settings_for(self, dealer: str) -> ApiVoSettings:  # pragma: no cover - provided by the backend
        raise NotImplementedError

    def settings_of(self, overlay: str | None) -> ApiVoSettings:  # pragma: no cover - provided by the backend
        raise NotImplementedError
