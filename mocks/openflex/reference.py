"""The reference table of the rapprochement référentiel (guide §1, rule R2), made with faker.

OpenFlex validates a vehicle by matching its VIN or registration against reference
data, which gives its make, model and version. The fake's table is generated from
the app's seed (faker, seeded): the same seed gives the same table, so a scenario can
pick a known vehicle through `GET /api/v1/reference/vehicles`. VINs start with real
manufacturer WMIs; an unknown VIN whose WMI is known still tells the make.
"""
from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from faker import Faker

NOT_RECONCILED, TO_CHECK, RECONCILED = "NOT_RECONCILED", "TO_CHECK", "RECONCILED"
RECONCILIATIONS = (NOT_RECONCILED, TO_CHECK, RECONCILED)
IDENTITY_FIELDS = ("vin", "registration")   # what the match reads; a change of either re-runs it

# World Manufacturer Identifiers (the VIN's first three characters) of real makes.
WMI_MAKES: dict[str, str] = {
    "VF1": "Renault", "VF3": "Peugeot", "VF7": "Citroën", "VR1": "DS", "UU1": "Dacia",
    "WVW": "Volkswagen", "WAU": "Audi", "WBA": "BMW", "WDD": "Mercedes-Benz", "ZFA": "Fiat",
    "TMB": "Škoda", "SJN": "Nissan", "VNK": "Toyota", "WF0": "Ford", "W0L": "Opel",
}

# make -> model -> versions, as a French dealer's reference data would list them.
CATALOGUE: dict[str, dict[str, tuple[str, ...]]] = {
    "Renault": {"Clio": ("TCe 90 Evolution", "E-Tech 145 Techno"), "Captur": ("TCe 140 Techno",),
                "Mégane": ("Blue dCi 115 Intens",), "Twingo": ("SCe 65 Zen",)},
    "Peugeot": {"208": ("PureTech 100 Allure", "BlueHDi 100 Active"), "308": ("PureTech 130 GT",),
                "2008": ("PureTech 130 GT",), "3008": ("Hybrid 136 Allure",)},
    "Citroën": {"C3": ("PureTech 83 Feel", "BlueHDi 100 Shine"), "C4": ("PureTech 130 Shine",),
                "C5 Aircross": ("BlueHDi 130 Feel",)},
    "DS": {"DS 3": ("PureTech 130 Performance Line",), "DS 7": ("E-Tense 225 Rivoli",)},
    "Dacia": {"Sandero": ("TCe 90 Stepway Expression",), "Duster": ("Blue dCi 115 Journey",),
              "Jogger": ("TCe 110 Extreme",)},
    "Volkswagen": {"Golf": ("1.5 TSI 130 Life",), "Polo": ("1.0 TSI 95 United",),
                   "T-Roc": ("1.5 TSI 150 R-Line",)},
    "Audi": {"A3 Sportback": ("35 TFSI S line",), "Q3": ("35 TDI Design",)},
    "BMW": {"Série 1": ("118i M Sport",), "Série 3": ("320d Luxury",), "X1": ("sDrive18i xLine",)},
    "Mercedes-Benz": {"Classe A": ("A 180 Progressive Line",), "Classe C": ("C 220 d AMG Line",)},
    "Fiat": {"500": ("1.0 Hybrid Dolcevita",), "Panda": ("1.0 Hybrid City Life",),
             "Tipo": ("1.5 Hybrid Life",)},
    "Škoda": {"Octavia": ("2.0 TDI 150 Style",), "Fabia": ("1.0 TSI 95 Ambition",)},
    "Nissan": {"Qashqai": ("Mild Hybrid 140 N-Connecta",), "Juke": ("DIG-T 114 Acenta",)},
    "Toyota": {"Yaris": ("Hybride 116h Design",), "Yaris Cross": ("Hybride 116h Dynamic",)},
    "Ford": {"Fiesta": ("1.0 EcoBoost 100 Titanium",), "Puma": ("EcoBoost Hybrid 125 ST-Line",)},
    "Opel": {"Corsa": ("1.2 75 Edition",), "Mokka": ("1.2 Turbo 130 GS Line",)},
}

VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"          # no I, O, Q (ISO 3779)
YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"
SIV_LETTERS = "ABCDEFGHJKLMNPQRSTVWXYZ"                   # SIV plates: no I, O, U
_TRANSLITERATION = {**{str(d): d for d in range(10)},
                    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
                    **dict(zip("JKLMN", range(1, 6), strict=True)),
                    "P": 7, "R": 9, **dict(zip("STUVWXYZ", range(2, 10), strict=True))}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_check_digit(vin: str) -> str:
    """The ISO 3779 check digit (position 9) of a 17-character VIN."""
    total = sum(_TRANSLITERATION[c] * w for c, w in zip(vin, _WEIGHTS, strict=True))
    return "X" if total % 11 == 10 else str(total % 11)


@dataclass(frozen=True)
class ReferenceVehicle:
    vin: str
    registration: str
    make: str
    model: str
    version: str

    def to_json(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class Match:
    """The outcome of the rapprochement: a reconciliation status and what it identified."""

    reconciliation: str
    make: str | None = None
    model: str | None = None
    version: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class ReferenceTable:
    """`size` reference vehicles generated from `seed`; lookups by VIN and registration."""

    def __init__(self, seed: int, size: int = 300) -> None:
        self.seed = seed
        fake = Faker("fr_FR")
        fake.seed_instance(seed)
        self.entries: list[ReferenceVehicle] = []
        self.by_vin: dict[str, ReferenceVehicle] = {}
        self.by_registration: dict[str, ReferenceVehicle] = {}
        while len(self.entries) < size:
            entry = self._generate(fake)
            if entry.vin in self.by_vin or entry.registration in self.by_registration:
                continue
            self.entries.append(entry)
            self.by_vin[entry.vin] = entry
            self.by_registration[entry.registration] = entry

    @staticmethod
    def _generate(fake: Faker) -> ReferenceVehicle:
        rnd = fake.random
        wmi = rnd.choice(sorted(WMI_MAKES))
        make = WMI_MAKES[wmi]
        model = rnd.choice(sorted(CATALOGUE[make]))
        return ReferenceVehicle(make_vin(rnd, wmi), make_registration(fake), make, model,
                                rnd.choice(CATALOGUE[make][model]))

    def match(self, vin: str | None, registration: str | None) -> Match:
        """Exact VIN or registration, consistent: RECONCILED; inconsistent or only the WMI known:
        TO_CHECK; nothing known: NOT_RECONCILED."""
        entry = self.by_vin.get(vin or "") or self.by_registration.get(registration or "")
        if entry is not None:
            consistent = (vin in (None, entry.vin)) and (registration in (None, entry.registration))
            return Match(RECONCILED if consistent else TO_CHECK, entry.make, entry.model, entry.version)
        make = WMI_MAKES.get((vin or "")[:3])
        if make is None:
            return Match(NOT_RECONCILED)
        rnd = random.Random(f"{self.seed}:{vin}")
        model = rnd.choice(sorted(CATALOGUE[make]))
        return Match(TO_CHECK, make, model, None)

    def search(self, vin: str | None = None, registration: str | None = None,
               make: str | None = None) -> Iterator[ReferenceVehicle]:
        for entry in self.entries:
            wanted = {"vin": vin, "registration": registration, "make": make}
            if all(value is None or getattr(entry, key) == value for key, value in wanted.items()):
                yield entry


def make_vin(rnd: random.Random, wmi: str) -> str:
    vds = "".join(rnd.choice(VIN_CHARS) for _ in range(5))
    tail = rnd.choice(YEAR_CODES) + rnd.choice(VIN_CHARS) + f"{rnd.randrange(1, 1_000_000):06d}"
    draft = f"{wmi}{vds}0{tail}"
    return draft[:8] + vin_check_digit(draft) + draft[9:]


def make_registration(fake: Faker) -> str:
    """A SIV plate (AA-123-AA): letters without I, O, U; never 000; never the pair SS, nor WW on
    the left (contracts/data/vehicle.yaml, format SIV)."""
    number = fake.random.randrange(1, 1000)
    first = "".join(fake.random.choice(SIV_LETTERS) for _ in range(2))
    last = "".join(fake.random.choice(SIV_LETTERS) for _ in range(2))
    first = {"SS": "ST", "WW": "WX"}.get(first, first)  # mapped, not drawn again: the same stream
    last = {"SS": "ST"}.get(last, last)
    return f"{first}-{number:03d}-{last}"
