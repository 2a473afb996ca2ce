"""Reservations of a vehicle: UNLIMITED, DATED (until a date) or ORDER (an opportunity's order).

Rule R5 asks a vehicle sold outside Opportunités to carry an unlimited reservation
blocking sale and publication; `published` follows from the status and the
reservations (`icarflex.contracts.is_published`). A vehicle already blocked for sale takes no
second reservation blocking sale (409 CONFLICT), an exited one takes none.
"""
from __future__ import annotations

import sqlite3
from datetime import date
from typing import Any

from icarflex.mocks.common.errors import Conflict, NotFound, ValidationFailed
from icarflex.mocks.common.store import dumps
from icarflex.mocks.openflex import events
from icarflex.mocks.openflex.schemas import DATED_KIND, ORDER_KIND
from icarflex.mocks.openflex.tables import next_id, now
from icarflex.mocks.openflex.vehicles import VehiclesMixin


class ReservationsMixin(VehiclesMixin):
    def create_reservation(self, dealer: str, actor: str, vehicle_id: str,
                           data: dict[str, Any]) -> dict[str, Any]:
        _check_dates(data)
        with self.store.transaction() as conn:
            return self._reserve(conn, dealer, actor, vehicle_id, data)

    def delete_reservation(self, dealer: str, actor: str, vehicle_id: str, reservation_id: str) -> None:
        with self.store.transaction() as conn:
            vehicle = self._load(conn, dealer, vehicle_id)
            self.audit(vehicle_before=vehicle, vehicle_id=vehicle_id)
            reservation = next((r for r in vehicle["reservations"] if r["id"] == reservation_id), None)
            if reservation is None:
                raise NotFound("Réservation", reservation_id)
            if reservation["kind"] == ORDER_KIND:
                raise Conflict("Une réservation de commande se lève depuis l'opportunité "
                               f"{reservation['opportunity_id']}", fields=["kind"])
            conn.execute("DELETE FROM openflex_reservations WHERE id = ?", (reservation_id,))
            self._touch(conn, vehicle_id)
            events.record(conn, dealer, events.RESERVATION_REMOVED, actor, vehicle_id, reservation)

    def _reserve(self, conn: sqlite3.Connection, dealer: str, actor: str, vehicle_id: str,
                 data: dict[str, Any]) -> dict[str, Any]:
        """Add a reservation to a vehicle of `dealer` (shared with the opportunity's order)."""
        vehicle = self._load(conn, dealer, vehicle_id)
        self.audit(vehicle_before=vehicle, vehicle_id=vehicle_id)
        if vehicle["status"] in self.terminal_statuses:
            raise Conflict(f"Véhicule {vehicle_id} en statut {vehicle['status']} : plus de réservation",
                           fields=["status"])
        if data.get("blocks_sale") and any(r["blocks_sale"] for r in vehicle["reservations"]):
            raise Conflict(f"Véhicule {vehicle_id} déjà réservé (vente bloquée)", fields=["reservations"])
        reservation = {"id": next_id(conn, "reservation"), "vehicle_id": vehicle_id, "kind": data["kind"],
                       "blocks_sale": data["blocks_sale"], "blocks_publication": data["blocks_publication"],
                       "until": data.get("until"), "opportunity_id": data.get("opportunity_id"),
                       "comment": data.get("comment"), "created_at": now(), "created_by": actor}
        conn.execute("INSERT INTO openflex_reservations (id, dealer, vehicle_id, doc) VALUES (?,?,?,?)",
                     (reservation["id"], dealer, vehicle_id, dumps(reservation)))
        self._touch(conn, vehicle_id)
        events.record(conn, dealer, events.RESERVATION_ADDED, actor, vehicle_id, reservation)
        return reservation

    @property
    def terminal_statuses(self) -> set[str]:
        """Statuses no transition leaves (SORTIE): the vehicle has left the stock."""
        leaving = {t.from_ for t in self.contract.lifeline.transitions}
        return {s for s in self.contract.statuses if s not in leaving}


def _check_dates(data: dict[str, Any]) -> None:
    """A DATED reservation needs a date to come; the others have none."""
    until = data.get("until")
    if data["kind"] == DATED_KIND and until is None:
        raise ValidationFailed("Une réservation DATED demande la date de fin « until »", fields=["until"])
    if data["kind"] != DATED_KIND and until is not None:
        raise ValidationFailed(f"Une réservation {data['kind']} n'a pas de date de fin", fields=["until"])
    if until is not None and date.fromisoformat(until) < date.today():
        raise ValidationFailed(f"Date de fin {until} passée", fields=["until"])
