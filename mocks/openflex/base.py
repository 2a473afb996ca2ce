"""What every part of the OpenFlex backend shares: the store, the contract, the reference
table, the served profile and the journal hook. No Flask here (STYLE §1, §4)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contracts import ApiVoSettings, Contract
from mocks.common.store import Store
from mocks.openflex.reference import ReferenceTable

Audit = Callable[..., None]


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

    def settings_for(self, dealer: str) -> ApiVoSettings:  # pragma: no cover - provided by the backend
        raise NotImplementedError
