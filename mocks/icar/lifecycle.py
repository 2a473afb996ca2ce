"""What the DMS side reads from the contract: its statuses and the OpenFlex moves it pushes.

Nothing here is a literal list: the ICAR statuses, the OpenFlex status the physical
entry and the invoice push, and the field ids pushed are read from `contracts/data/`
(lifeline transitions, mapping, preconditions, vehicle fields), so a contract change
flows through the fake without a code change.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from icarflex.contracts import Contract, load_contract


@dataclass(frozen=True)
class Lifecycle:
    """The DMS record's statuses and the OpenFlex statuses the connector pushes."""

    arrival: str            # ICAR status of a matched vehicle (ARRIVAGE)
    stock: str              # ICAR status after the physical entry (STOCK)
    invoiced: str           # ICAR status after the invoice (FACTURE)
    openflex_entry: str     # OpenFlex status a vehicle is matched in (PRE_RENTREE)
    physical_entry: str     # OpenFlex status the physical entry pushes (ENTREE_PHYSIQUE)
    exit: str               # OpenFlex status the invoice pushes (SORTIE)
    delivered: str          # OpenFlex status the exit leaves from (LIVRAISON)
    exit_gate: str | None   # capability row letting the DMS exit (exit_from_delivery): at NON the
                            # invoice pushes no status, an OpenFlex user exits the vehicle
    police_field: str       # field carrying the police number (precondition of the entry)
    invoiced_price_field: str  # field carrying the invoiced price (precondition of the exit)
    mileage_field: str
    frevo_field: str
    vat_field: str

    @property
    def icar_statuses(self) -> tuple[str, str, str]:
        return (self.arrival, self.stock, self.invoiced)


def _dms_moves(contract: Contract) -> list[tuple[str | None, str, tuple[str, ...], str | None]]:
    dms = contract.dms_actor
    return [(t.from_, t.to, t.requires, t.gated_actors.get(dms)) for t in contract.lifeline.transitions
            if dms in t.actors or dms in t.gated_actors]


def _field(contract: Contract, name: str) -> str:
    if name not in contract.vehicle.fields:
        raise KeyError(f"vehicle.yaml has no field {name!r} the ICAR connector pushes")
    return name


@cache
def lifecycle(contract: Contract | None = None) -> Lifecycle:
    contract = contract or load_contract()
    entry = contract.entry_status
    moves = [m for m in _dms_moves(contract) if m[0] is not None]
    physical = next(m for m in moves if m[0] == entry)
    exit_move = next(m for m in moves if contract.icar_status_for(m[1]) not in
                     (contract.icar_status_for(entry), contract.icar_status_for(physical[1])))
    pre = contract.lifeline.preconditions
    police = next(pre[p].field for p in physical[2] if pre[p].code == "POLICE_NUMBER_REQUIRED")
    invoiced_price = next(pre[p].field for p in exit_move[2] if pre[p].field in contract.vehicle.price_fields)
    return Lifecycle(
        arrival=contract.icar_status_for(entry), stock=contract.icar_status_for(physical[1]),
        invoiced=contract.icar_status_for(exit_move[1]), openflex_entry=entry,
        physical_entry=physical[1], exit=exit_move[1], delivered=str(exit_move[0]), exit_gate=exit_move[3],
        police_field=_field(contract, police),
        invoiced_price_field=_field(contract, invoiced_price), mileage_field=_field(contract, "mileage"),
        frevo_field=_field(contract, "frevo_realised"), vat_field=_field(contract, "vat_recoverable"))


def vat_regime_name(vat_recoverable: bool, contract: Contract | None = None) -> str:
    """The regime whose VAT is (or is not) recoverable (vehicle.yaml `vat_regimes`)."""
    return (contract or load_contract()).vat_regime_name(vat_recoverable)
