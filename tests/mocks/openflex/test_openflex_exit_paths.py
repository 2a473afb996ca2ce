"""The exit (Sortie) under « Sortie des véhicules en statut livraison » (capability
exit_from_delivery), over HTTP: with the row at OUI the DMS exits at invoicing and an OpenFlex
user is refused; at NON (our reading, docs/decisions.md) the exit is made in OpenFlex by an
OpenFlex user, and the DMS's exit is refused naming the row."""
from __future__ import annotations

from openflex_support import World

ROW = "exit_from_delivery"


def delivered_and_invoiced(world: World) -> str:
    vehicle = world.vehicle_in("LIVRAISON", "MARCHAND")
    world.satisfy("invoiced_sale_price", vehicle["id"])
    return vehicle["id"]


def test_with_the_row_at_non_the_openflex_user_exits_and_the_dms_is_refused_naming_the_row(world: World):
    assert world.flip(ROW) is False
    vehicle_id = delivered_and_invoiced(world)
    problem = world.dms.patch(f"/vehicles/{vehicle_id}", {"status": "SORTIE"}).problem(
        409, "TRANSITION_NOT_ALLOWED")
    assert problem["fields"] == ["status"] and ROW in str(problem)
    assert world.vehicle(vehicle_id)["status"] == "LIVRAISON"
    assert world.openflex.patch(f"/vehicles/{vehicle_id}", {"status": "SORTIE"}).ok()["status"] == "SORTIE"


def test_with_the_row_at_oui_the_dms_exits_and_the_openflex_user_is_refused(world: World):
    vehicle_id = delivered_and_invoiced(world)
    problem = world.openflex.patch(f"/vehicles/{vehicle_id}", {"status": "SORTIE"}).problem(
        409, "TRANSITION_NOT_ALLOWED")
    assert problem["fields"] == ["status"]
    assert world.dms.patch(f"/vehicles/{vehicle_id}", {"status": "SORTIE"}).ok()["status"] == "SORTIE"
