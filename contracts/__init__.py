"""The ICAR DMS ⇄ OpenFlex integration contract, as data, with its rule engine.

`load_contract()` reads `contracts/data/`; `ApiVoSettings` is a dealer's active
parameterization (defaults + profile); `evaluate()` returns the violations of a change.
"""
from __future__ import annotations

from icarflex.contracts.engine import (
    Violation,
    evaluate,
    has_sale_channel,
    is_blocking_reservation,
    is_published,
    precondition_holds,
)
from icarflex.contracts.models import Contract, ContractError, load_contract
from icarflex.contracts.profile import ApiVoSettings, ProfileError, load_profile

__all__ = [
    "ApiVoSettings", "Contract", "ContractError", "ProfileError", "Violation", "evaluate",
    "has_sale_channel", "is_blocking_reservation", "is_published", "load_contract", "load_profile",
    "precondition_holds",
]
