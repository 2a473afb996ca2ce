"""The OpenFlex backend: one object holding every operation of the fake, state in SQLite.

`OpenFlexBackend` gathers the resources (vehicles, reservations, opportunities,
events, seeding) and owns what is per dealer: the active API VO parameterization,
the served profile with the dealer's overlay (`PUT /settings/api-vo`) laid over it.
Method name = route name = OpenAPI operationId (STYLE §3). No Flask here.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from icarflex.contracts import ApiVoSettings, ProfileError
from icarflex.mocks.common.errors import ValidationFailed
from icarflex.mocks.common.store import dumps, loads
from icarflex.mocks.openflex.events import EventsMixin
from icarflex.mocks.openflex.reference import WMI_MAKES
from icarflex.mocks.openflex.seeding import SeedingMixin
from icarflex.mocks.openflex.tables import STATE_TABLES, now


class OpenFlexBackend(SeedingMixin, EventsMixin):
    # -- the API VO parameterization, per dealer -----------------------------------
    def settings_for(self, dealer: str) -> ApiVoSettings:
        """The served profile with the dealer's overlay laid over it (a dealer never seen: the profile)."""
        row = self.store.one("SELECT overlay FROM openflex_settings WHERE dealer = ?", (dealer,))
        return self.settings_of(row["overlay"] if row else None)

    def settings_of(self, overlay: str | None) -> ApiVoSettings:
        """The settings a stored overlay (its text, None: none) gives, parsed once per text."""
        settings = self.settings_cache.get(overlay)
        if settings is None:
            values = loads(overlay) if overlay else {}
            settings = ApiVoSettings(self.contract, {**self.profile.values, **values})
            self.settings_cache.put(overlay, settings)
        return settings

    def get_settings(self, dealer: str) -> dict[str, Any]:
        return self.settings_for(dealer).to_json()

    def put_settings(self, dealer: str, overlay: Mapping[str, Any]) -> dict[str, Any]:
        """Merge any subset of the settings shape; rows equal to the profile's are not kept."""
        with self.store.transaction() as conn:
            try:
                merged = self.settings_for(dealer).merge(overlay, source="PUT /settings/api-vo")
            except ProfileError as exc:
                raise ValidationFailed(str(exc), fields=exc.fields) from exc
            kept = {row: merged[row] for row in merged.diff(self.profile)}
            conn.execute("INSERT INTO openflex_settings (dealer, overlay, updated_at) VALUES (?,?,?) "
                         "ON CONFLICT(dealer) DO UPDATE SET overlay = excluded.overlay, "
                         "updated_at = excluded.updated_at",
                         (dealer, dumps(kept), now()))
        return merged.to_json()

    # -- the reference table (read-only) ------------------------------------------
    def list_reference_vehicles(self, vin: str | None = None, registration: str | None = None,
                                make: str | None = None, limit: int = 50) -> dict[str, Any]:
        found = list(self.reference.search(vin, registration, make))
        return {"items": [e.to_json() for e in found[:limit]], "total": len(found),
                "wmi": dict(sorted(WMI_MAKES.items()))}

    # -- admin ---------------------------------------------------------------------
    def reset(self) -> None:
        """Every dealer's state emptied; settings back to the served profile. Ids are never reused."""
        with self.store.transaction() as conn:
            for table in STATE_TABLES:
                conn.execute(f"DELETE FROM {table}")
        for cache in (self.vehicle_cache, self.overlay_seen):
            cache.clear()  # memory only: every entry is checked against the store before it counts

    def health(self) -> dict[str, Any]:
        counts = {table: self.store.one(f"SELECT COUNT(*) AS n FROM openflex_{table}")["n"]
                  for table in ("vehicles", "reservations", "opportunities", "events")}
        return {"counts": counts, "reference_entries": len(self.reference.entries),
                "profile_rows_changed": self.profile.diff(ApiVoSettings.defaults(self.contract))}
