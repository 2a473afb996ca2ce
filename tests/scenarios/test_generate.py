"""Generated inputs: realistic French data, valid for the contract, reproducible by seed."""
from __future__ import annotations

import re
from datetime import date

import pytest
from icarflex.contracts import load_contract
from icarflex.scenarios.generate import generate_case, reference, vin_check_digit

CONTRACT = load_contract()
WORKFLOWS = [w.id for w in CONTRACT.workflows]
SEEDS = range(12)


def cases(workflow: str) -> list[dict]:
    return [generate_case(workflow, seed) for seed in SEEDS]


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_identity_fits_the_contracts_patterns(workflow: str) -> None:
    vin_pattern = CONTRACT.vehicle.fields["vin"].pattern
    plate_pattern = CONTRACT.vehicle.fields["registration"].pattern
    for case in cases(workflow):
        vehicle = case["vehicle"]
        assert re.fullmatch(vin_pattern, vehicle["vin"]) and not set("IOQ") & set(vehicle["vin"])
        assert vehicle["vin"][:3] in reference()["wmi"]
        assert vehicle["vin"][8] == vin_check_digit(vehicle["vin"])
        assert re.fullmatch(plate_pattern, vehicle["registration"])
        assert vehicle["registration"][:2] not in ("SS", "WW") and vehicle["registration"][-2:] != "SS"
        assert vehicle["registration"][3:6] != "000"


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_mec_is_before_the_registration_certificate_and_values_are_plausible(workflow: str) -> None:
    for case in cases(workflow):
        vehicle = case["vehicle"]
        mec = date.fromisoformat(vehicle["first_registration_date"])
        certificate = date.fromisoformat(vehicle["registration_certificate_date"])
        assert mec < certificate
        assert 1_500 <= vehicle["mileage"] < case["entry_mileage"] < 400_000
        assert vehicle["destination"] == CONTRACT.workflow[workflow].destination
        assert vehicle["origin"] in CONTRACT.enum_values("origin")
        assert 0 <= vehicle["trade_in_price"] <= vehicle["sale_price"] or vehicle["sale_price"] <= 1


def test_the_trade_gets_old_or_high_mileage_cars() -> None:
    for case in cases("marchand"):
        vehicle = case["vehicle"]
        age = (date(2025, 6, 30) - date.fromisoformat(vehicle["first_registration_date"])).days / 365
        assert age > 10 or vehicle["mileage"] > 100_000


def test_particulier_cars_are_recent_and_under_100000_km() -> None:
    for case in cases("particulier"):
        assert case["vehicle"]["mileage"] < 100_000 and case["frevo"]


def test_scrap_is_invoiced_at_one_euro_or_less() -> None:
    for case in cases("casse"):
        assert case["invoice_price"] <= 1 and case["vehicle"]["sale_price"] <= 1 and not case["frevo"]


def test_the_same_seed_gives_the_same_case_and_another_seed_another() -> None:
    assert generate_case("particulier", 7) == generate_case("particulier", 7)
    vins = {generate_case("particulier", seed)["vehicle"]["vin"] for seed in (7, 8)}
    assert len(vins) == 2
    assert generate_case("particulier", 7, 1) != generate_case("particulier", 7, 2)


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_the_other_identity_differs_from_the_vehicle_in_every_field(workflow: str) -> None:
    for case in [generate_case(workflow, seed, f"salt-{seed}") for seed in range(60)]:
        for field in ("vin", "registration", "exterior_color", "trade_in_price"):
            assert case["other"][field] != case["vehicle"][field], field
