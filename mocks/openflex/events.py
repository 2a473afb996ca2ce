"""The change feed's event types (`GET /events?after=CURSOR`: what a DMS connector polls).

Every vehicle creation, write (with the changed fields), status move, reservation
added or removed, opportunity and order is one event, written in the same
transaction as the change itself (`repositories.Events`), so the feed never shows a
refused write and holds every answered one.
"""
from __future__ import annotations

VEHICLE_CREATED = "vehicle.created"
VEHICLE_UPDATED = "vehicle.updated"            # data: changes {field: new}, before {field: old}
STATUS_CHANGED = "vehicle.status_changed"      # data: from, to (also in the vehicle.updated event)
RESERVATION_ADDED = "reservation.added"        # data: the reservation
RESERVATION_REMOVED = "reservation.removed"    # data: the reservation
OPPORTUNITY_CREATED = "opportunity.created"    # data: opportunity_id, customer
OPPORTUNITY_ORDERED = "opportunity.ordered"    # data: opportunity_id, price, reservation_id
EVENT_TYPES = (VEHICLE_CREATED, VEHICLE_UPDATED, STATUS_CHANGED, RESERVATION_ADDED,
               RESERVATION_REMOVED, OPPORTUNITY_CREATED, OPPORTUNITY_ORDERED)
