"""Request and response models of the ICAR fake; `/openapi.json` is generated from them.

Vehicle field types (VIN and registration patterns, mileage bounds, money) come from
`contracts/data/vehicle.yaml`, and the DMS statuses from the lifeline, so the ICAR
API validates exactly what the contract says: the models those types shape are built for
the contract an app is given (`models(contract)`, once per contract), none at import.
Every number is bounded (±(2^53 − 1) where the contract gives no bound: the API plumbing
refuses beyond), and what JSON Schema cannot state (a date against today or the match) is
written in the field's description.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from icarflex.contracts import Contract
from icarflex.mocks.common.api import Refusal
from icarflex.mocks.common.bodies import MAX_SAFE_INTEGER
from icarflex.mocks.icar.lifecycle import lifecycle
from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator


def contract_type(contract: Contract, name: str) -> Any:
    """The pydantic type of a vehicle field of the contract (with its bounds and pattern)."""
    spec = contract.vehicle.fields[name]
    constraints: dict[str, Any] = {"description": spec.description} if spec.description else {}
    if spec.type in ("integer", "number"):
        constraints.update(ge=-MAX_SAFE_INTEGER if spec.minimum is None else spec.minimum,
                           le=MAX_SAFE_INTEGER if spec.maximum is None else spec.maximum)
        base: Any = int if spec.type == "integer" else float
        if spec.type == "number":
            constraints["allow_inf_nan"] = False
        return Annotated[base, Strict(), Field(**constraints)]
    if spec.type == "string":
        constraints.update(pattern=spec.pattern, min_length=spec.min_length, max_length=spec.max_length)
        return Annotated[str, Strict(), Field(**constraints)]
    if spec.type == "boolean":
        return Annotated[bool, Strict()]
    raise TypeError(f"vehicle field {name!r} of type {spec.type} is not used by the ICAR fake")


Money = Annotated[float, Strict(), Field(ge=0, le=10_000_000, allow_inf_nan=False)]
PoliceNumber = Annotated[str, Strict(), Field(max_length=32)]
Text = Annotated[str, Strict(), Field(min_length=1, max_length=120)]
# A value the DMS may send OpenFlex as is: a JSON scalar, numbers within the plumbing's range.
Bound = Field(ge=-MAX_SAFE_INTEGER, le=MAX_SAFE_INTEGER)
RawValue = (Annotated[str, Strict(), Field(max_length=500)] | Annotated[bool, Strict()]
            | Annotated[int, Strict(), Bound] | Annotated[float, Strict(), Bound, Field(allow_inf_nan=False)]
            | None)
FieldName = Annotated[str, Strict(), Field(min_length=1, max_length=64)]


def schema_extra(**extra: Any) -> Any:
    """JSON schema tweak: add `extra` (minProperties…) and drop `default: null` from fields that
    are optional but not nullable (an explicit null is refused, so it must not be advertised)."""
    def tweak(schema: dict[str, Any]) -> None:
        for prop in schema.get("properties", {}).values():
            if "default" in prop and prop["default"] is None and "anyOf" not in prop:
                del prop["default"]
        schema.update(extra)
    return tweak


# Refusals of schema-valid bodies by rules JSON Schema cannot state (published per operation).
REFUSALS = {
    "book_physical_entry": (Refusal(422, "VALIDATION_ERROR", ("entry_date",),
                                    "date d'entrée future, ou antérieure au rapprochement du VEH"),),
    "create_invoice": (Refusal(422, "VALIDATION_ERROR", ("vat_recoverable",),
                               "origine du VEH inconnue d'OpenFlex : vat_recoverable à préciser"),),
}


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests ---------------------------------------------------------------------------
class FrevoRequest(Body):
    label: Text
    amount: Annotated[float, Strict(), Field(gt=0, le=1_000_000, allow_inf_nan=False)]


class OpenflexWriteRequest(Body):
    fields: dict[FieldName, RawValue] = Field(
        min_length=1, max_length=50, description="champs envoyés tels quels à OpenFlex, comme le ferait le "
        "DMS ; OpenFlex juge l'écriture (son refus : 502 UPSTREAM_REFUSED, son problème dans `upstream`)")


class SyncLogQuery(Body):
    after: int = Field(0, ge=0, le=2**62)
    limit: int = Field(100, ge=1, le=1000)
    record_id: str | None = Field(None, max_length=64)
    outcome: Literal["OK", "REFUSED", "FAILED"] | None = None
    operation: str | None = Field(None, max_length=40)
    dealer: str | None = Field(None, max_length=64, description="admin seulement")


class RegisterQuery(Body):
    after: int = Field(0, ge=0, le=2**62)
    limit: int = Field(100, ge=1, le=1000)


# --- responses --------------------------------------------------------------------------
class FrevoLine(BaseModel):
    id: int
    label: str
    amount: float
    created_at: str


class SyncSummary(BaseModel):
    id: int
    operation: str
    outcome: str
    status: int | None
    at: str


class OutboxOperation(BaseModel):
    id: int
    dealer: str
    record_id: str
    openflex_id: str
    operation: str
    state: Literal["PENDING", "FAILED", "DONE", "REFUSED"] = Field(
        description="PENDING, FAILED : ouverte (rejouée avec les mêmes valeurs) ; DONE, REFUSED : soldée")
    change: dict[str, Any] = Field(description="ce qui est poussé à OpenFlex (le N° de police inclus)")
    police_number: str | None
    attempts: int
    last_sync_id: int | None
    created_at: str
    updated_at: str


class SyncTry(BaseModel):
    method: str
    status: int | None
    error: str | None
    elapsed_ms: int
    landed: bool | None = None


class SyncEntry(BaseModel):
    id: int
    at: str
    dealer: str
    record_id: str | None
    openflex_id: str | None
    operation: str
    method: str
    url: str
    path: str
    body: Any
    status: int | None
    problem: Any
    attempts: int
    outcome: Literal["OK", "REFUSED", "FAILED"]
    error: str | None
    tries: list[SyncTry]
    duration_ms: int
    outbox_id: int | None = Field(None, description="l'opération de l'outbox pour laquelle l'appel "
                                  "a été fait")


class SyncLogPage(BaseModel):
    items: list[SyncEntry]
    next_after: int


class RegisterEntry(BaseModel):
    number: str
    site: str
    seq: int | None = Field(description="rang dans le livre de police du site (null : N° imposé)")
    dealer: str
    record_id: str
    openflex_id: str
    entry_date: str
    source: Literal["REGISTER", "OVERRIDE"] = Field(description="attribué par le livre, ou imposé")
    state: Literal["PENDING", "BOOKED", "REFUSED", "FAILED"]
    at: str


class RegisterPage(BaseModel):
    items: list[RegisterEntry]
    next_after: int


# --- the outbox (operations recorded before their push to OpenFlex) ------------------------
class OutboxQuery(Body):
    state: Literal["PENDING", "FAILED", "DONE", "REFUSED"] | None = None
    after: int = Field(0, ge=0, le=2**62)
    limit: int = Field(100, ge=1, le=1000)
    dealer: str | None = Field(None, max_length=64, description="admin seulement")


class OutboxPage(BaseModel):
    items: list[OutboxOperation]
    next_after: int


# --- what the contract types: built for the contract an app is given ------------------------
@dataclass(frozen=True)
class IcarModels:
    """The request and response models whose fields the contract types (VIN and plate patterns,
    mileage bounds, the DMS statuses, the VAT regimes), built once per contract."""

    VehicleQuery: type[BaseModel]
    MatchRequest: type[BaseModel]
    PhysicalEntryRequest: type[BaseModel]
    UpdateRequest: type[BaseModel]
    InvoiceRequest: type[BaseModel]
    Invoice: type[BaseModel]
    DmsVehicle: type[BaseModel]
    DmsVehicleList: type[BaseModel]
    OpenflexWriteResult: type[BaseModel]
    ReplayResult: type[BaseModel]


@functools.cache  # one set of classes per contract (a Contract hashes by identity)
def models(contract: Contract) -> IcarModels:
    """The models of `contract` (built on first use; the same classes afterwards)."""
    return _build(contract)


def _build(contract: Contract) -> IcarModels:  # noqa: C901 - one class statement each
    life = lifecycle(contract)
    Vin = contract_type(contract, "vin")  # noqa: N806 - pydantic types, named as types
    Registration = contract_type(contract, "registration")  # noqa: N806
    Mileage = contract_type(contract, life.mileage_field)  # noqa: N806
    InvoicedPrice = contract_type(contract, life.invoiced_price_field)  # noqa: N806
    VatRecoverable = contract_type(contract, life.vat_field)  # noqa: N806
    DmsStatus = Literal[life.icar_statuses]  # type: ignore[valid-type]  # noqa: N806
    VatRegime = Literal[tuple(contract.vehicle.vat_regimes)]  # type: ignore[valid-type]  # noqa: N806

    class VehicleQuery(Body):
        status: DmsStatus | None = None
        police_number: str | None = Field(None, max_length=64)
        openflex_id: str | None = Field(None, max_length=64)
        limit: int = Field(100, ge=1, le=500)
        cursor: str | None = Field(None, pattern=r"^[0-9]{1,18}$", description="next_cursor d'une page")

    class MatchRequest(Body):
        """Exactly one way to find the vehicle in OpenFlex."""

        model_config = ConfigDict(extra="forbid",
                                  json_schema_extra=schema_extra(minProperties=1, maxProperties=1))
        openflex_id: Annotated[str, Strict(), Field(min_length=1, max_length=64,  # an id, never a path
                                                    pattern=r"^[A-Za-z0-9_.:-]+$")] = None  # type: ignore[assignment]
        vin: Vin = None
        registration: Registration = None

        @model_validator(mode="after")
        def _one_key(self) -> MatchRequest:
            given = [k for k in ("openflex_id", "vin", "registration") if getattr(self, k) is not None]
            if len(given) != 1:
                raise ValueError("donner exactement un de openflex_id, vin, registration")
            return self

    class PhysicalEntryRequest(Body):
        mileage: Mileage
        entry_date: date | None = Field(None, description="date d'entrée (défaut : aujourd'hui) : ni future "
                                        "ni antérieure au rapprochement du VEH (422 VALIDATION_ERROR sinon)")
        police_number: PoliceNumber | None = Field(
            None, description="remplace le N° attribué par le livre de police (scénarios négatifs) ; "
                              "\"\" : n'en envoyer aucun")

    class UpdateRequest(Body):
        """At least one DMS-owned field."""

        model_config = ConfigDict(extra="forbid", json_schema_extra=schema_extra(minProperties=1))
        mileage: Mileage = None
        vat_recoverable: VatRecoverable = None

        @model_validator(mode="after")
        def _something(self) -> UpdateRequest:
            if self.mileage is None and self.vat_recoverable is None:
                raise ValueError("rien à mettre à jour : mileage ou vat_recoverable")
            return self

    class InvoiceRequest(Body):
        customer: Text
        invoiced_sale_price: InvoicedPrice
        vat_recoverable: VatRecoverable | None = Field(
            None, description="défaut : selon l'origine du VEH dans OpenFlex (PARTICULIER : marge, "
                              "PROFESSIONNEL : régime normal)")

    class Invoice(BaseModel):
        number: str
        customer: str
        invoiced_sale_price: float
        vat_recoverable: bool
        vat_regime: VatRegime
        vat_source: Literal["ORIGIN", "PURCHASE", "REQUEST"]
        origin: str | None
        issued_at: str

    class DmsVehicle(BaseModel):
        id: str
        dealer: str
        openflex_id: str
        status: DmsStatus
        vin: str | None
        registration: str | None
        make: str | None
        model: str | None
        origin: str | None
        police_number: str | None
        entry_date: str | None
        mileage: int | None
        vat_recoverable: bool | None
        frevo_lines: list[FrevoLine]
        frevo_total: float
        invoice: Invoice | None
        sync: SyncSummary | None = Field(description="dernier appel à OpenFlex pour ce VEH")
        pending: OutboxOperation | None = Field(None, description="opération enregistrée, pas encore soldée "
                                                "avec OpenFlex (elle est rejouée par le prochain appel)")
        created_at: str
        updated_at: str

    class DmsVehicleList(BaseModel):
        items: list[DmsVehicle]
        next_cursor: str | None

    class OpenflexWriteResult(BaseModel):
        record: DmsVehicle
        sync: SyncEntry
        openflex: dict[str, Any] | None = Field(description="le VEH renvoyé par OpenFlex")

    class ReplayResult(BaseModel):
        operation: OutboxOperation | None = Field(description="l'opération soldée par le rejeu "
                                                  "(null : écriture brute)")
        sync: SyncEntry = Field(description="le nouvel appel à OpenFlex")
        record: DmsVehicle | None

    return IcarModels(VehicleQuery, MatchRequest, PhysicalEntryRequest, UpdateRequest, InvoiceRequest,
                      Invoice, DmsVehicle, DmsVehicleList, OpenflexWriteResult, ReplayResult)
