"""Realistic, seeded French inputs for the workflows: one `case` per replayed vehicle.

A case holds what the actors type or scan: the customer, the vehicle's identity (VIN
of 17 characters without I/O/Q from a real manufacturer prefix, SIV plate AA-123-AA,
MEC before the carte grise), its mileage and prices in plausible ranges for its
destination (guide §3: the trade gets old or high-mileage cars, the scrap centre
pays 1 € at most), the reconditioning lines, the buyer and the invoice. The same
seed, workflow and index always give the same case.
"""
from __future__ import annotations

import hashlib
import re
import threading
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from random import Random
from typing import Any

import yaml
from faker import Faker
from icarflex.contracts import Contract, load_contract

REFERENCE_FILE = Path(__file__).parent / "data" / "reference.yaml"
# Ages are counted from a fixed day so that a seed gives the same case on any day.
ANCHOR = date(2025, 6, 30)
VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"          # ISO 3779: no I, O, Q
VIN_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"          # model year, cycle of 30 from 1980
VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
# ISO 3779 transliteration of each character, for the check digit (position 9).
VIN_VALUES = {c: v for chars, start in (("0123456789", 0), ("ABCDEFGH", 1), ("JKLMN", 1), ("P", 7),
                                        ("R", 9), ("STUVWXYZ", 2))
              for v, c in enumerate(chars, start)}
SIV_LETTERS = "ABCDEFGHJKLMNPQRSTVWXYZ"                   # no I, O, U (drawn; the contract judges)


@cache
def reference() -> dict[str, Any]:
    return yaml.safe_load(REFERENCE_FILE.read_text(encoding="utf-8"))


def faker_for(seed: int, *salt: object) -> Faker:
    """A French Faker seeded by `seed` and `salt` (stable across runs and Python versions)."""
    fake = Faker("fr_FR")
    fake.seed_instance(_seed_of(seed, *salt))
    return fake


def _seed_of(seed: int, *salt: object) -> int:
    digest = hashlib.sha256(":".join(map(str, (seed, *salt))).encode()).digest()
    return int.from_bytes(digest[:8], "big")


_CASE_FAKER = threading.local()


def _case_faker(seed: int, *salt: object) -> Faker:
    """`faker_for(seed, *salt)`, but this thread's one Faker re-seeded: building a Faker (its
    providers) costs about a millisecond, a tenth of a many-vehicle replay. Only `generate_case`
    uses it, and drops it when it returns; the same seed gives the same values as a new one."""
    fake = getattr(_CASE_FAKER, "fake", None)
    if fake is None:
        fake = _CASE_FAKER.fake = Faker("fr_FR")
    fake.seed_instance(_seed_of(seed, *salt))
    return fake


# --- identity --------------------------------------------------------------------
def vin_check_digit(vin: str) -> str:
    total = sum(VIN_VALUES[c] * w for c, w in zip(vin, VIN_WEIGHTS, strict=True))
    return "X" if total % 11 == 10 else str(total % 11)


def make_vin(rng: Random, wmi: str, model_year: int) -> str:
    """A VIN: manufacturer prefix, descriptor, check digit, model year, plant, serial."""
    descriptor = "".join(rng.choice(VIN_CHARS) for _ in range(5))
    year = VIN_YEAR_CODES[(model_year - 1980) % len(VIN_YEAR_CODES)]
    plant = rng.choice(VIN_CHARS)
    serial = f"{rng.randrange(1, 1_000_000):06d}"
    vin = f"{wmi}{descriptor}0{year}{plant}{serial}"
    return vin[:8] + vin_check_digit(vin) + vin[9:]


def make_plate(rng: Random, issued: date) -> str:
    """A SIV plate AA-123-AA in the series issued around `issued`, one the contract's SIV format
    accepts (vehicle.yaml: never SS, never WW on the left, never 000)."""
    firsts = reference()["siv_first_letter"]
    first = firsts[max((y for y in firsts if y <= issued.year), default=min(firsts))]
    siv = _siv_pattern()
    while True:
        head = first + rng.choice(SIV_LETTERS)
        tail = rng.choice(SIV_LETTERS) + rng.choice(SIV_LETTERS)
        plate = f"{head}-{rng.randrange(1, 1000):03d}-{tail}"
        if siv.fullmatch(plate):
            return plate


@cache
def _siv_pattern() -> re.Pattern[str]:
    formats = load_contract().vehicle.fields["registration"].formats or ()
    return re.compile(next(fmt.pattern for fmt in formats if fmt.id == "SIV"))


# --- ageing and prices -----------------------------------------------------------
def ageing_profile(rng: Random, destination: str) -> dict[str, Any]:
    ageing = reference()["ageing"]
    if destination in ageing:
        return ageing[destination]
    # Guide §3: the trade gets vehicles over 10 years *or* over 100,000 km.
    variants = sorted(k for k in ageing if k.startswith(f"{destination}_"))
    return ageing[rng.choice(variants)]


def age_and_mileage(rng: Random, profile: dict[str, Any], anchor: date) -> tuple[date, date, int]:
    """(MEC, carte grise date, mileage): MEC strictly before the current certificate."""
    low, high = profile["age_years"]
    mec = anchor - timedelta(days=rng.randrange(low * 365, high * 365 + 1))
    owners_change = rng.random() < 0.7  # most trade-ins had a second owner
    delta = (anchor - mec).days
    certificate = mec + timedelta(days=rng.randrange(delta // 4, delta - 30) if owners_change
                                  else rng.randrange(1, 15))
    years = delta / 365
    mileage = int(years * rng.randrange(*profile["km_per_year"]))
    mileage = min(mileage, profile.get("max_mileage", mileage))
    mileage = max(mileage, profile.get("min_mileage", 0), 1500)
    return mec, certificate, mileage


def market_value(rng: Random, new_price: int, years: float, mileage: int) -> float:
    """A rough Argus-style value: yearly depreciation and a mileage penalty."""
    value = new_price * 0.84 ** years * max(0.35, 1 - mileage / 350_000)
    return value * rng.uniform(0.93, 1.07)


def round_to(value: float, step: int) -> int:
    return max(step, int(round(value / step)) * step)


# --- the case ---------------------------------------------------------------------
def generate_case(workflow: str, seed: int, index: int | str = 0, *, anchor: date = ANCHOR,
                  contract: Contract | None = None) -> dict[str, Any]:
    """Everything the actors of `workflow` type in, for vehicle number `index` of a run."""
    contract = contract or load_contract()
    destination = contract.workflow[workflow].destination
    fake = _case_faker(seed, workflow, index)
    rng = fake.random
    wmi, maker = rng.choice(sorted(reference()["wmi"].items()))
    model, new_price = rng.choice(sorted(maker["models"].items()))
    profile = ageing_profile(rng, destination)
    mec, certificate, mileage = age_and_mileage(rng, profile, anchor)
    years = (anchor - mec).days / 365
    value = market_value(rng, new_price, years, mileage)
    origin = rng.choice(contract.enum_values("origin"))
    vehicle = {
        "vin": make_vin(rng, wmi, mec.year),
        "registration": make_plate(rng, certificate),
        "first_registration_date": mec.isoformat(),
        "registration_certificate_date": certificate.isoformat(),
        "mileage": mileage,
        "origin": origin,
        "destination": destination,
        "trade_in_by": fake.name(),
        "exterior_color": rng.choice(reference()["colours"]),
    }
    vehicle.update(_prices(rng, destination, value))
    vehicle["vat_recoverable"] = _purchase_vat(contract, origin, seed, workflow, index)
    frevo = _frevo(rng) if destination in _prepared_destinations(contract) else []
    case = {
        "workflow": workflow, "seed": seed, "index": index,
        "make": maker["make"], "model": model,
        "customer": fake.name(),
        "vehicle": vehicle,
        "entry_mileage": mileage + rng.randrange(5, 300),
        "mileage_update": mileage + rng.randrange(300, 900),   # a later reading, pushed by the DMS
        "frevo": frevo,
        "frevo_total": round(sum(line["amount"] for line in frevo), 2),
        # Rule R9: the VAT regime comes from the purchase (vehicle.yaml `vat_by_origin`).
        "vat_recoverable": vehicle["vat_recoverable"],
        "other": _other_identity(seed, workflow, index, anchor, vehicle),
    }
    case.update(_sale(fake, destination, vehicle))
    return case


def _purchase_vat(contract: Contract, origin: str, seed: int, workflow: str, index: int | str) -> bool:
    """Rule R9: what the origin fixes (a private seller: margin scheme), else what the purchase says
    (a professional sold under the margin scheme or with deductible VAT), drawn apart so that the
    other draws of a case stay what they were."""
    fixed = contract.fixed_vat_recoverable(origin)
    return fixed if fixed is not None else Random(_seed_of(seed, workflow, index, "vat")).random() < 0.5


def _prepared_destinations(contract: Contract) -> set[str]:
    """Destinations whose lifeline publishes the vehicle: those are reconditioned (FREVO)."""
    return {d for d, line in contract.lifeline.lifelines.items()
            if any(contract.statuses[s].published for s in line)}


def _prices(rng: Random, destination: str, value: float) -> dict[str, float]:
    sale = reference()["sale"][destination]
    if "scrap_price" in sale:
        return {"trade_in_price": float(rng.choice(sale["scrap_trade_in"])),
                "sale_price": sale["scrap_price"]}
    trade_in = round_to(value * rng.uniform(0.78, 0.86), 100)
    return {"trade_in_price": float(trade_in),
            "sale_price": float(round_to(value * sale["retail_margin"], 100) - 10)}


def _frevo(rng: Random) -> list[dict[str, Any]]:
    lines = rng.sample(reference()["frevo_lines"], k=rng.randrange(2, 4))
    return [{"label": line["label"], "amount": float(rng.randrange(*line["amount"]))} for line in lines]


def _sale(fake: Faker, destination: str, vehicle: dict[str, Any]) -> dict[str, Any]:
    """Who buys the vehicle and at what price it is invoiced."""
    sale, rng = reference()["sale"][destination], fake.random
    if sale["buyer"] == "scrap_centre":
        buyer, price = f"Centre VHU {fake.last_name()} Recyclage", sale["scrap_price"]
    elif sale["buyer"] == "trader":
        buyer = f"{fake.last_name()} Automobiles"
        price = float(round_to(vehicle["trade_in_price"] * rng.uniform(*sale["trader_margin"]), 50))
    else:
        buyer = fake.name()
        price = float(vehicle["sale_price"] - rng.choice(sale["invoice_discounts"]))
    return {"buyer": buyer, "order_price": vehicle["sale_price"], "invoice_price": price}


def _other_identity(seed: int, workflow: str, index: int | str, anchor: date,
                    vehicle: dict[str, Any]) -> dict[str, Any]:
    """Another vehicle's identity, different in every field: what a forbidden write tries to put in place."""
    rng = Random(_seed_of(seed, workflow, index, "other"))  # what faker_for(...).random would give
    wmi = rng.choice(sorted(reference()["wmi"]))
    colours = [c for c in reference()["colours"] if c != vehicle["exterior_color"]]
    price = float(rng.randrange(20, 300) * 100)
    return {"vin": make_vin(rng, wmi, anchor.year - 3),
            "registration": make_plate(rng, anchor - timedelta(days=900)),
            "exterior_color": rng.choice(colours),
            "trade_in_price": price if price != vehicle["trade_in_price"] else price + 100,
            "police_number": f"SAISIE-{rng.randrange(1, 10_000):04d}"}
