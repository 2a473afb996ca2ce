"""The OpenFlex fake's own error conditions, over the shared problem+json errors
(icarflex.mocks.common.errors): one small class per condition, rendered in one place."""
from __future__ import annotations

from icarflex.mocks.common.errors import Conflict, NotFound, PreconditionFailed


class VehicleNotFound(NotFound):
    """No such vehicle for this dealer (another dealer's is not found either: isolation)."""

    def __init__(self, vehicle_id: str) -> None:
        super().__init__("Véhicule", vehicle_id)


class OpportunityNotFound(NotFound):
    def __init__(self, opportunity_id: str) -> None:
        super().__init__("Opportunité", opportunity_id)


class ReservationNotFound(NotFound):
    def __init__(self, reservation_id: str) -> None:
        super().__init__("Réservation", reservation_id)


class StaleVersion(PreconditionFailed):
    """If-Match names a version the vehicle no longer has."""

    def __init__(self, if_match: str, current: str) -> None:
        super().__init__(f"If-Match {if_match} ≠ ETag {current} : relire le véhicule")


class WrittenMeanwhile(Conflict):
    """The compare-and-swap on the version found another write first (a retry reads it)."""

    def __init__(self, vehicle_id: str) -> None:
        super().__init__(f"Véhicule {vehicle_id} modifié entre-temps : relire et réessayer",
                         fields=["version"])
