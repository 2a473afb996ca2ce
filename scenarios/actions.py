"""The actions a scenario step or a negative twin names, as HTTP calls through the clients.

Each action takes the replay (its clients and the run's namespace), the acting actor
and the step's resolved inputs; it makes its calls and keeps what later steps refer
to (`vehicle_id`, `icar_id`, `police_number`, …) in `replay.values`. It stops at the
first refused call: the runner judges the calls afterwards. DMS actions go through
the ICAR fake (whose connector pushes to the OpenFlex API VO); the others, and the
DMS's direct API VO calls, go to OpenFlex.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from icarflex.scenarios.runner import Replay

Action = Callable[["Replay", str, Mapping[str, Any]], None]
ACTIONS: dict[str, Action] = {}


def action(fn: Action) -> Action:
    ACTIONS[fn.__name__] = fn
    return fn


# --- OpenFlex -------------------------------------------------------------------------
@action
def estimate_trade_in(replay: Replay, actor: str, inputs: Mapping[str, Any]) -> None:
    """The mobile app estimates the customer's car inside an opportunity (rule R1)."""
    client = replay.openflex(actor)
    opportunity = client.create_opportunity(inputs["customer"])
    if not opportunity.ok:
        return
    replay.values["opportunity_id"] = opportunity.body["id"]
    reply = client.estimate_trade_in(opportunity.body["id"], {**inputs["vehicle"], **inputs.get("set", {})})
    if reply.ok:
        replay.values["vehicle_id"] = reply.body["id"]


@action
def recover_trade_in(replay: Replay, actor: str, inputs: Mapping[str, Any]) -> None:
    """« Récupération du véhicule dans le stock » (guide §1): the deal signed, the trade-in enters stock."""
    replay.openflex(actor).recover_trade_in(replay.values["opportunity_id"], replay.values["vehicle_id"])


@action
def lose_opportunity(replay: Replay, actor: str, inputs: Mapping[str, Any]) -> None:
    """The opportunity is lost: its estimated trade-in is withdrawn, never entered."""
    replay.openflex(actor).lose_opportunity(replay.values["opportunity_id"])


@action
def create_vehicle(replay: Replay, actor: str, inputs: Mapping[str, Any]) -> None:
    """Creation in « Véhicules » (achat direct), in Pré-Rentrée (rule R1)."""
    reply = replay.openflex(actor).create_vehicle({**inputs["vehicle"], **inputs.get("set", {})})
    if reply.ok:
        replay.values["vehicle_id"] = reply.body["id"]


@action
def move_status(replay: Replay, actor: str, inputs: Mapping[str, Any]) -> None:
    """A move on the lifeline: to the step's status, or to the one the inputs name."""
    status = inputs.get("status") or replay.target_status
    replay.openflex(actor).patch_vehicle(replay.values["vehicle_id"], {"status": status})


@action
def patch_vehicle(replay: Replay, actor: str, inputs: Mapping[str, Any]) -> None:
    """A direct write of vehicle fields in OpenFlex (JSON merge patch)."""
    replay.openflex(actor).patch_vehicle(replay.values["vehicle_id"], inputs["fields"])


@action
def reserve_unlimited(replay: Replay, actor: str, inputs: Mapping[str, Any]) -> None:
    """Rule R5: the unlimited reservation blocking sale and publication."""
    reply = replay.openflex(actor).reserve_unlimited(replay.values["vehicle_id"], inputs.get("comment"))
    if reply.ok:
        replay.values["reservation_id"] = reply.body["id"]


@action
def cancel_reservations(replay: Replay, actor: str, inputs: Mapping[str, Any]) -> None:
    """Lift every blocking reservation of the vehicle (the kind comes from the contract)."""
    client = replay.openflex(actor)
    vehicle = client.get_vehicle(replay.values["vehicle_id"]).body or {}
    kind = replay.contract.vehicle.reservations.blocking["kind"]
    for reservation in vehicle.get("reservations") or []:
        if reservation.get("kind") != kind:
            continue
        if not client.cancel_reservation(vehicle["id"], reservation["id"]).ok:
            return


@action
def place_order(replay: Replay, actor: str, inputs: Mapping[str, Any]) -> None:
    """The buyer's opportunity orders the vehicle (the sale channel of rule R5)."""
    client = replay.openflex(actor)
    opportunity = client.create_opportunity(inputs["customer"])
    if opportunity.ok:
        replay.values["order_opportunity_id"] = opportunity.body["id"]
        client.place_order(opportunity.body["id"], replay.values["vehicle_id"], inputs["price"])


@action
def set_parameterization(replay: Replay, actor: str, inputs: Mapping[str, Any]) -> None:
    """A dealer's back-office flips rows of the API VO parameterization (admin)."""
    replay.openflex(actor).put_settings(inputs)


# --- ICAR DMS -----------------------------------------------------------------------------
@action
def match_vehicle(replay: Replay, actor: str, inputs: Mapping[str, Any]) -> None:
    """Rule R2: ICAR finds the OpenFlex vehicle by VIN or registration and takes it in."""
    identity = {k: inputs[k] for k in ("openflex_id", "vin", "registration") if k in inputs}
    reply = replay.icar.match_vehicle(**identity)
    if reply.ok:
        replay.values["icar_id"] = reply.body["id"]


@action
def book_physical_entry(replay: Replay, actor: str, inputs: Mapping[str, Any]) -> None:
    """Rule R3: the physical entry in ICAR assigns the police number."""
    reply = replay.icar.book_physical_entry(replay.values["icar_id"], inputs["mileage"],
                                            inputs.get("police_number"))
    if reply.ok:
        replay.values["police_number"] = reply.body.get("police_number")


@action
def add_frevo(replay: Replay, actor: str, inputs: Mapping[str, Any]) -> None:
    """Reconditioning costs entered in ICAR flow to `frevo_realised`."""
    for line in inputs["lines"]:
        if not replay.icar.add_frevo(replay.values["icar_id"], line["label"], line["amount"]).ok:
            return


@action
def push_fields(replay: Replay, actor: str, inputs: Mapping[str, Any]) -> None:
    """ICAR pushes fields to OpenFlex as the DMS would (negative twins of rule R6)."""
    replay.icar.push_fields(replay.values["icar_id"], inputs["fields"])


@action
def invoice(replay: Replay, actor: str, inputs: Mapping[str, Any]) -> None:
    """Rule R4: the invoice in ICAR exits the vehicle in OpenFlex."""
    replay.icar.invoice(replay.values["icar_id"], inputs["customer"], inputs["invoiced_sale_price"],
                        inputs.get("vat_recoverable"))
