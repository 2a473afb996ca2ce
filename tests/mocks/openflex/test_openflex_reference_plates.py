"""The reference data's plates are plates the contract accepts (its SIV format: no SS, no WW on
the left), so a long replay never draws a vehicle that OpenFlex itself refuses."""
from __future__ import annotations

import re

from faker import Faker
from icarflex.contracts import load_contract
from icarflex.mocks.openflex.reference import make_registration


def test_every_generated_plate_matches_the_contracts_siv_format() -> None:
    siv = next(f for f in load_contract().vehicle.fields["registration"].formats or () if f.id == "SIV")
    fake = Faker()
    fake.seed_instance(2025)
    plates = [make_registration(fake) for _ in range(20_000)]
    assert [p for p in plates if not re.fullmatch(siv.pattern, p)] == []
