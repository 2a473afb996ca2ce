"""Opportunités: a customer's opportunity, its trade-in estimations and its order.

The mobile app's estimation creates the trade-in vehicle in the entry status
(rule R1), as a REPRISE linked to the opportunity, through the same rule engine as
any creation. An order reserves a stock vehicle for the opportunity (an ORDER
reservation blocking sale and publication): its sale channel for rule R5.
"""
from __future__ import annotations

import sqlite3
from dataclasses import replace
from typing import Any

from icarflex.contracts import Contract
from icarflex.contracts.engine import order_price_violations
from icarflex.mocks.common.errors import ApiError, Conflict, NotFound, ValidationFailed
from icarflex.mocks.common.store import dumps, loads
from icarflex.mocks.openflex import events
from icarflex.mocks.openflex.reservations import ReservationsMixin
from icarflex.mocks.openflex.schemas import ORDER_KIND
from icarflex.mocks.openflex.tables import next_id, now

SALE_CHANNEL = "sale_channel"  # the lifeline precondition an order satisfies (rule R5)


def orderable_statuses(contract: Contract) -> set[str]:
    """Where a vehicle is for sale: a step of the lifeline leaves it through a sale
    (requires a sale channel), and no sale brought it there (LIVRAISON is sold)."""
    sales = [t for t in contract.lifeline.transitions if SALE_CHANNEL in t.requires]
    return {t.from_ for t in sales if t.from_} - {t.to for t in sales}


class OpportunitiesMixin(ReservationsMixin):
    def create_opportunity(self, dealer: str, actor: str, data: dict[str, Any]) -> dict[str, Any]:
        with self.store.transaction() as conn:
            opportunity = {"id": next_id(conn, "opportunity"), "dealer": dealer, "customer": data["customer"],
                           "order": None, "created_at": now(), "created_by": actor}
            conn.execute("INSERT INTO openflex_opportunities (id, dealer, doc) VALUES (?,?,?)",
                         (opportunity["id"], dealer, dumps(opportunity)))
            events.record(conn, dealer, events.OPPORTUNITY_CREATED, actor, None,
                          {"opportunity_id": opportunity["id"], "customer": data["customer"]})
            return self._opportunity(conn, dealer, opportunity["id"])

    def get_opportunity(self, dealer: str, opportunity_id: str) -> dict[str, Any]:
        return self._opportunity(self.store.connection(), dealer, opportunity_id)

    def estimate_trade_in(self, dealer: str, actor: str, opportunity_id: str,
                          data: dict[str, Any]) -> dict[str, Any]:
        """The trade-in estimation: a vehicle in the entry status, a REPRISE of this opportunity."""
        sets = self.contract.vehicle.trade_in_sets  # what a trade-in is (vehicle.yaml)
        for name, value in sets.items():
            if data.get(name) not in (None, value):
                raise ValidationFailed(f"Une reprise a pour {name} {value} (reçu : {data[name]})",
                                       fields=[name])
        with self.store.transaction() as conn:
            self._opportunity(conn, dealer, opportunity_id)
            return self._create(conn, dealer, actor, {**data, **sets}, opportunity_id)

    def place_order(self, dealer: str, actor: str, opportunity_id: str,
                    data: dict[str, Any]) -> dict[str, Any]:
        """Order a stock vehicle for the opportunity: an ORDER reservation blocking sale and publication."""
        with self.store.transaction() as conn:
            opportunity = self._opportunity(conn, dealer, opportunity_id)
            if opportunity["order"] is not None:
                raise Conflict(f"L'opportunité {opportunity_id} a déjà une commande", fields=["order"])
            vehicle = self._load(conn, dealer, data["vehicle_id"])
            self.audit(vehicle_before=vehicle, vehicle_id=vehicle["id"])
            refused = [replace(v, field="price") for v in
                       order_price_violations(self.contract, self.settings_for(dealer), data["price"])]
            self.audit(verdict=[v.to_json() for v in refused])
            if refused:
                raise ApiError.from_violations(refused)
            for_sale = orderable_statuses(self.contract)
            if vehicle["status"] not in for_sale:
                raise Conflict(f"Véhicule {vehicle['id']} en statut {vehicle['status']} : pas en vente "
                               f"({', '.join(sorted(for_sale))})", fields=["status"])
            reservation = self._reserve(conn, dealer, actor, vehicle["id"], {
                "kind": ORDER_KIND, "blocks_sale": True, "blocks_publication": True,
                "opportunity_id": opportunity_id})
            order = {"vehicle_id": vehicle["id"], "price": data["price"], "reservation_id": reservation["id"],
                     "ordered_at": now(), "ordered_by": actor}
            doc = {k: v for k, v in opportunity.items() if k != "trade_ins"}
            conn.execute("UPDATE openflex_opportunities SET doc = ? WHERE id = ?",
                         (dumps({**doc, "order": order}), opportunity_id))
            events.record(conn, dealer, events.OPPORTUNITY_ORDERED, actor, vehicle["id"],
                          {"opportunity_id": opportunity_id, "price": data["price"],
                           "reservation_id": reservation["id"]})
            return self._opportunity(conn, dealer, opportunity_id)

    def _opportunity(self, conn: sqlite3.Connection, dealer: str, opportunity_id: str) -> dict[str, Any]:
        row = conn.execute("SELECT doc FROM openflex_opportunities WHERE id = ? AND dealer = ?",
                           (opportunity_id, dealer)).fetchone()
        if row is None:
            raise NotFound("Opportunité", opportunity_id)
        trade_ins = [r["id"] for r in conn.execute(
            "SELECT id FROM openflex_vehicles WHERE dealer = ? AND opportunity_id = ? ORDER BY seq",
            (dealer, opportunity_id))]
        doc = loads(row["doc"])
        return {**doc, "trade_ins": trade_ins}
