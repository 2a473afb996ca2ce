"""Every rule of guide §1 (R1…) is broken at least once here and the engine names it.

`BREAKERS` maps each rule id to the changes that break it; a test asserts every rule of
rules.yaml has an entry, so a new rule without a test fails the suite.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from contract_samples import base_vehicle, creation_body
from icarflex.contracts import (
    ApiVoSettings,
    evaluate,
    has_sale_channel,
    is_blocking_reservation,
    is_published,
    load_contract,
)

CONTRACT = load_contract()
BLOCKING = dict(CONTRACT.vehicle.reservations.blocking)


@dataclass(frozen=True)
class Breaker:
    """`actor` applies `change` to `vehicle` (None: creates) under `profile`: `code` on `field`."""

    id: str
    actor: str
    vehicle: dict[str, Any] | None
    change: dict[str, Any]
    code: str
    field: str | None
    profile: dict[str, Any] = field(default_factory=dict)


def _vehicle(status: str = "PRE_RENTREE", destination: str = "PARTICULIER", **state: Any) -> dict[str, Any]:
    return base_vehicle(CONTRACT, status, destination, **state)


BREAKERS: dict[str, list[Breaker]] = {
    "R1": [
        Breaker("dms-creates-a-vehicle", "dms", None, creation_body(CONTRACT),
                "VEHICLE_CREATION_NOT_ALLOWED", None),
        Breaker("admin-creates-a-vehicle", "admin", None, creation_body(CONTRACT), "FORBIDDEN", None),
        Breaker("created-in-stock", "openflex_user", None, creation_body(CONTRACT, status="STOCK_VENTE"),
                "TRANSITION_NOT_ALLOWED", "status"),
        Breaker("created-without-destination", "mobile_app", None, creation_body(CONTRACT, destination=None),
                "VALIDATION_ERROR", "destination"),
    ],
    "R2": [
        Breaker("entry-of-an-unmatched-vehicle", "dms", _vehicle(reconciliation="NOT_RECONCILED"),
                {"status": "ENTREE_PHYSIQUE"}, "TRANSITION_NOT_ALLOWED", "reconciliation"),
        Breaker("user-writes-the-make", "openflex_user", _vehicle(), {"make": "Renault"},
                "FIELD_NOT_MODIFIABLE", "make"),
    ],
    "R3": [
        Breaker("entry-without-police-number", "dms", _vehicle(police_number=None),
                {"status": "ENTREE_PHYSIQUE"}, "POLICE_NUMBER_REQUIRED", "police_number"),
        Breaker("entry-with-empty-police-number", "dms", _vehicle(police_number=None),
                {"status": "ENTREE_PHYSIQUE", "police_number": ""},
                "POLICE_NUMBER_REQUIRED", "police_number"),
        Breaker("user-books-the-entry", "openflex_user", _vehicle(), {"status": "ENTREE_PHYSIQUE"},
                "TRANSITION_NOT_ALLOWED", "status"),
    ],
    "R4": [
        Breaker("user-exits-a-vehicle", "openflex_user", _vehicle("LIVRAISON"), {"status": "SORTIE"},
                "TRANSITION_NOT_ALLOWED", "status"),
        Breaker("marchand-goes-to-preparation", "openflex_user", _vehicle("ENTREE_PHYSIQUE", "MARCHAND"),
                {"status": "VERIF_POST_PREPARATION"}, "TRANSITION_NOT_ALLOWED", "status"),
        Breaker("exit-skips-delivery", "dms", _vehicle("STOCK_VENTE"), {"status": "SORTIE"},
                "TRANSITION_NOT_ALLOWED", "status"),
        Breaker("exit-without-invoice", "dms", _vehicle("LIVRAISON", invoiced_sale_price=None),
                {"status": "SORTIE"}, "VALIDATION_ERROR", "invoiced_sale_price"),
        Breaker("exit-when-exit-from-delivery-is-off", "dms", _vehicle("LIVRAISON"), {"status": "SORTIE"},
                "TRANSITION_NOT_ALLOWED", "status", {"capabilities": {"exit_from_delivery": False}}),
    ],
    "R5": [
        Breaker("marchand-delivered-without-reservation", "openflex_user",
                _vehicle("ENTREE_PHYSIQUE", "MARCHAND", reservations=[]), {"status": "LIVRAISON"},
                "RESERVATION_REQUIRED", "reservations"),
        Breaker("dated-reservation-is-not-enough", "openflex_user",
                _vehicle("ENTREE_PHYSIQUE", "CASSE", reservations=[{**BLOCKING, "kind": "DATED"}]),
                {"status": "LIVRAISON"}, "RESERVATION_REQUIRED", "reservations"),
        Breaker("reservation-not-blocking-publication", "openflex_user",
                _vehicle("STOCK_VENTE", reservations=[{**BLOCKING, "blocks_publication": False}]),
                {"status": "LIVRAISON"}, "RESERVATION_REQUIRED", "reservations"),
        Breaker("exit-without-reservation", "dms", _vehicle("LIVRAISON", "MARCHAND", reservations=[]),
                {"status": "SORTIE"}, "RESERVATION_REQUIRED", "reservations"),
    ],
    "R6": [
        Breaker("dms-writes-the-vin", "dms", _vehicle(), {"vin": "VF3ABCDEFGH123456"},
                "FIELD_NOT_MODIFIABLE", "vin"),
        Breaker("dms-writes-a-locked-mileage", "dms", _vehicle(), {"mileage": 123456}, "FIELD_NOT_MODIFIABLE",
                "mileage", {"fields": {"mileage": {"dms_modifiable": False}}}),
    ],
    "R7": [
        Breaker("scrap-invoiced-at-one-euro", "dms", _vehicle("LIVRAISON", "CASSE", invoiced_sale_price=None),
                {"status": "SORTIE", "invoiced_sale_price": 1}, "PRICE_NOT_ALLOWED", "invoiced_sale_price",
                {"settings": {"uc_price_editable": False}}),
        Breaker("user-sets-a-sale-price-of-zero", "openflex_user", _vehicle(), {"sale_price": 0},
                "PRICE_NOT_ALLOWED", "sale_price", {"settings": {"uc_price_editable": False}}),
    ],
    "R8": [
        Breaker("user-writes-the-police-number", "openflex_user", _vehicle(), {"police_number": "X-1"},
                "FIELD_NOT_MODIFIABLE", "police_number"),
        Breaker("app-writes-the-frevo", "mobile_app", _vehicle(), {"frevo_realised": 830.0},
                "FIELD_NOT_MODIFIABLE", "frevo_realised"),
        Breaker("user-invoices", "openflex_user", _vehicle(), {"invoiced_sale_price": 9000.0},
                "FIELD_NOT_MODIFIABLE", "invoiced_sale_price"),
    ],
    "R9": [
        Breaker("dms-recovers-vat-on-a-private-sellers-car", "dms", _vehicle(origin="PARTICULIER"),
                {"vat_recoverable": True}, "VALIDATION_ERROR", "vat_recoverable"),
        Breaker("user-creates-a-private-sellers-car-under-the-normal-regime", "openflex_user", None,
                creation_body(CONTRACT, origin="PARTICULIER", vat_recoverable=True),
                "VALIDATION_ERROR", "vat_recoverable"),
        Breaker("professional-purchase-without-its-regime", "mobile_app", None,
                creation_body(CONTRACT, origin="PROFESSIONNEL", vat_recoverable=None),
                "VALIDATION_ERROR", "vat_recoverable"),
        Breaker("origin-turned-private-on-a-normal-regime-car", "openflex_user",
                _vehicle(origin="PROFESSIONNEL", vat_recoverable=True), {"origin": "PARTICULIER"},
                "VALIDATION_ERROR", "vat_recoverable"),
    ],
}
CASES = [pytest.param(rule, breaker, id=f"{rule}-{breaker.id}")
         for rule, breakers in BREAKERS.items() for breaker in breakers]


# R10 (desynchronisation) is judged across both systems' journals, not on one write by the
# engine: tests/scenarios/test_desynchronisation.py breaks it.
CROSS_SYSTEM = {CONTRACT.rule_for("desynchronisation")}


def test_every_rule_of_the_contract_has_a_breaking_case():
    assert set(CONTRACT.rules) - CROSS_SYSTEM <= {rule for rule, breakers in BREAKERS.items() if breakers}
    assert set(BREAKERS) <= set(CONTRACT.rules)


@pytest.mark.parametrize("rule, breaker", CASES)
def test_the_engine_names_the_broken_rule_code_and_field(defaults: ApiVoSettings, rule, breaker):
    settings = defaults.merge(breaker.profile)
    violations = evaluate(CONTRACT, settings, breaker.actor, breaker.vehicle, breaker.change)
    assert (breaker.code, rule, breaker.field) in [(v.code, v.rule, v.field) for v in violations]


@pytest.mark.parametrize("rule, breaker", CASES)
def test_every_violation_carries_a_french_label_and_message(defaults: ApiVoSettings, rule, breaker):
    settings = defaults.merge(breaker.profile)
    violations = evaluate(CONTRACT, settings, breaker.actor, breaker.vehicle, breaker.change)
    for v in violations:
        row = CONTRACT.rows.get(v.field or "")
        assert v.label and v.label != v.field and v.message
        assert v.label == (row.label if row else v.label)
        assert v.code in CONTRACT.codes


@pytest.mark.parametrize("rule, breaker", [case for case in CASES if case.values[1].profile])
def test_the_same_change_passes_under_the_guide_defaults(defaults, rule, breaker):
    violations = evaluate(CONTRACT, defaults, breaker.actor, breaker.vehicle, breaker.change)
    assert rule not in [v.rule for v in violations]


# --- the reservation helpers of rule R5 ------------------------------------------------
def test_an_order_or_the_blocking_reservation_is_a_sale_channel():
    assert has_sale_channel(CONTRACT, [{"kind": "ORDER"}])
    assert has_sale_channel(CONTRACT, [BLOCKING])
    assert is_blocking_reservation(CONTRACT, BLOCKING)
    assert not has_sale_channel(CONTRACT, [{**BLOCKING, "blocks_sale": False}])
    assert not has_sale_channel(CONTRACT, [])


@pytest.mark.parametrize("status", list(CONTRACT.statuses))
def test_a_vehicle_is_advertised_only_in_a_published_status_without_a_blocking_reservation(status):
    published = CONTRACT.statuses[status].published
    assert is_published(CONTRACT, status, []) is published
    assert is_published(CONTRACT, status, [BLOCKING]) is False
