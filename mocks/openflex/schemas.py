"""The OpenFlex fake's pydantic request and response models, built from the contract.

The vehicle's data fields, their types and constraints come from
`contracts/data/vehicle.yaml` (`load_contract().vehicle.fields`), the statuses from
the lifeline, the settings rows from the parameterization: nothing here lists a
field id by hand, so a new row of the contract is validated and published in
`/openapi.json` without a code change. Request bodies are strict (no coercion of
"12" to 12, no unknown fields); queries are lax (they arrive as strings).

The published schemas say what validation demands (issue 15): every number bounded (at
most ±(2^53 − 1) where the contract gives no bound, as the API plumbing refuses beyond),
a field required at creation never null, a DATED reservation's `until` required (and
absent otherwise) as JSON Schema; what JSON Schema cannot state (a date against another,
or against today) is written in the model's description, naming the rule.
"""
from __future__ import annotations

import functools
from datetime import date, datetime
from types import SimpleNamespace
from typing import Annotated, Any, Literal

from icarflex.contracts import Contract
from icarflex.contracts.models import FieldSpec
from icarflex.mocks.common.api import Refusal
from icarflex.mocks.common.bodies import MAX_SAFE_INTEGER
from icarflex.mocks.openflex.reference import RECONCILIATIONS
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, StringConstraints, create_model

BODY = ConfigDict(extra="forbid")
QUERY = ConfigDict(extra="forbid")  # a misspelt filter (?stauts=) is an error, not the whole list
StrictBool = Annotated[bool, Strict()]
Money = Annotated[float, Strict(), Field(ge=0, le=MAX_SAFE_INTEGER, allow_inf_nan=False)]
Id = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=64)]
Text = Annotated[str, Strict(), StringConstraints(max_length=500)]
Timestamp = Annotated[str, Field(description="Horodatage ISO 8601 (UTC)")]
DATED_KIND = "DATED"  # the one kind that ends on a date (`until`)


def _iso_date(value: Any) -> Any:
    """Dates travel as ISO 8601 strings: refuse numbers (pydantic would read a timestamp)."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError("date ISO 8601 attendue (AAAA-MM-JJ)")
    return date.fromisoformat(value)


IsoDate = Annotated[date, BeforeValidator(_iso_date)]


def _iso_datetime(value: Any) -> Any:
    """A date-time as ISO 8601 text with its time (`0.5` is no date-time, nor `2024-01-01`)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or len(value) < 16 or value[10] not in "Tt ":
        raise ValueError("date-heure ISO 8601 attendue (AAAA-MM-JJTHH:MM:SSZ)")
    return datetime.fromisoformat(value)


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime)]


def literal(values: tuple[str, ...]) -> Any:
    return Literal[values]  # type: ignore[valid-type]


def field_type(contract: Contract, name: str, spec: FieldSpec) -> Any:
    """The pydantic type of one contract field (vehicle.yaml `type` and its constraints)."""
    if spec.type == "enum":
        return literal(contract.enum_values(name))
    if spec.type == "date":
        return IsoDate
    if spec.type == "boolean":
        return StrictBool
    if spec.type == "string":
        return Annotated[str, Strict(), StringConstraints(
            pattern=spec.pattern, min_length=spec.min_length, max_length=spec.max_length)]
    base = int if spec.type == "integer" else float
    extra = {"allow_inf_nan": False} if base is float else {}
    low = -MAX_SAFE_INTEGER if spec.minimum is None else spec.minimum
    high = MAX_SAFE_INTEGER if spec.maximum is None else spec.maximum
    return Annotated[base, Strict(), Field(ge=low, le=high, **extra)]


def _field_info(spec: FieldSpec, default: Any = None) -> Any:
    extra = {"readOnly": True} if spec.read_only else None
    return Field(default, description=spec.description, json_schema_extra=extra)


def vehicle_body(contract: Contract, name: str, *, required: tuple[str, ...],
                 not_null: tuple[str, ...] = (), doc: str,
                 fixed: dict[str, Any] | None = None) -> type[BaseModel]:
    """A request body of vehicle data fields: every field optional, null allowed unless `not_null`.

    `required` is published in the schema, never null there; the rule engine enforces it (rule
    R1), so the refusal names the rule. Read-only fields are accepted by the parser and refused
    by the engine (rule R2), as the DMS would be if it wrote them. The contract's cross-field
    constraints are written in the description. `fixed`: fields this body sets itself (a
    trade-in's `purchase_source`), published as that value or null (the backend refuses others).
    """
    fields: dict[str, Any] = {}
    for field_id, spec in contract.vehicle.fields.items():
        kind = field_type(contract, field_id, spec)
        fields[field_id] = (kind if field_id in not_null else kind | None, _field_info(spec))
    creation = "origin" in required  # the whole vehicle is in the body: its cross-field rules hold
    rules = {"allOf": [vat_by_origin(contract), *conditional_formats(contract)]} if creation else {}
    config = ConfigDict(extra="forbid", json_schema_extra=_published(required, fixed or {}, rules))
    return create_model(name, __config__=config, __doc__=doc + constraints_text(contract), **fields)


def constraints_text(contract: Contract) -> str:
    """The contract's cross-field constraints, as the description states them (422 when broken)."""
    lines = [f"\n- {c.field} ≤ {c.other} : {c.message} (422 VALIDATION_ERROR)"
             for c in contract.vehicle.constraints if c.kind == "not_after"]
    return "\n\nContraintes entre champs :" + "".join(lines) if lines else ""


def conditional_formats(contract: Contract) -> list[dict[str, Any]]:
    """A field's formats that hold only `when` other fields say so (a foreign plate: an import),
    as JSON Schema: the value takes an unconditional format, or a conditional one with its `when`."""
    out = []
    for name, spec in contract.vehicle.fields.items():
        formats = spec.formats or ()
        if not any(fmt.when for fmt in formats):
            continue
        free = "|".join(f"(?:{fmt.pattern})" for fmt in formats if not fmt.when)
        branches: list[dict[str, Any]] = [{"properties": {name: {"anyOf": [
            {"type": "null"}, {"type": "string", "pattern": f"^(?:{free})$"}]}}}] if free else []
        branches += [{"properties": {name: {"type": "string", "pattern": fmt.pattern},
                                     **{k: {"const": v} for k, v in fmt.when.items()}},
                      "required": [name, *fmt.when]} for fmt in formats if fmt.when]
        out.append({"anyOf": branches})
    return out


def vat_by_origin(contract: Contract) -> dict[str, Any]:
    """Rule R9 at the creation, as JSON Schema: an origin that fixes the VAT regime (a private
    seller: margin scheme) takes that `vat_recoverable` or none; any other states it."""
    field, by = contract.vehicle.vat_field, contract.vehicle.vat_fixed_by
    fixed = {origin: contract.fixed_vat_recoverable(origin) for origin in contract.enum_values(by)}
    branches: list[dict[str, Any]] = [
        {"properties": {by: {"const": origin}, field: {"enum": [value, None]}}}
        for origin, value in fixed.items() if value is not None]
    free = [origin for origin, value in fixed.items() if value is None]
    if free:
        branches.append({"properties": {by: {"enum": free}, field: {"type": "boolean"}}, "required": [field]})
    return {"anyOf": branches}


def _published(required: tuple[str, ...], fixed: dict[str, Any], extra: dict[str, Any]) -> Any:
    def tweak(schema: dict[str, Any]) -> None:
        schema.update(extra)
        for name, value in fixed.items():
            schema["properties"][name] = {"anyOf": [{"const": value}, {"type": "null"}],
                                          "description": f"toujours {value} ici (ou absent)"}
        if not required:
            return
        schema["required"] = list(required)
        for name in required:
            prop = schema["properties"][name]
            branches = [b for b in prop.pop("anyOf", []) if b.get("type") != "null"]
            prop.pop("default", None)
            if branches:
                prop.update(branches[0] if len(branches) == 1 else {"anyOf": branches})
    return tweak


def reservation_models(contract: Contract) -> tuple[type[BaseModel], type[BaseModel]]:
    kinds = contract.vehicle.reservations.kinds
    order = contract.vehicle.reservations.order  # made by an order, never by POST /reservations
    reservation = create_model(
        "Reservation", __config__=ConfigDict(extra="forbid"),
        __doc__="Une réservation d'un véhicule (ORDER : posée par une commande d'opportunité)",
        id=(str, ...), vehicle_id=(str, ...), kind=(literal(kinds), ...), blocks_sale=(bool, ...),
        blocks_publication=(bool, ...), until=(date | None, ...), opportunity_id=(str | None, ...),
        comment=(str | None, ...), created_at=(Timestamp, ...), created_by=(str, ...))
    others = tuple(k for k in kinds if k not in (order, DATED_KIND))
    dated_rule = {"anyOf": [
        {"properties": {"kind": {"const": DATED_KIND}, "until": {"type": "string", "format": "date"}},
         "required": ["until"]},
        {"properties": {"kind": {"enum": list(others)}, "until": {"type": "null"}}}]}
    create = create_model(
        "ReservationCreate", __config__=ConfigDict(extra="forbid", json_schema_extra=dated_rule),
        __doc__=f"Réservation posée par un utilisateur OpenFlex : {DATED_KIND} a une date de fin `until` "
                "(obligatoire, aujourd'hui ou plus tard : 422 sinon), les autres n'en ont pas",
        kind=(literal(tuple(k for k in kinds if k != order)), ...),
        blocks_sale=(StrictBool, ...), blocks_publication=(StrictBool, ...),
        until=(IsoDate | None, None), comment=(Text | None, None))
    return reservation, create


def vehicle_model(contract: Contract, reservation: type[BaseModel]) -> type[BaseModel]:
    fields: dict[str, Any] = {"id": (str, ...), "dealer": (str, ...)}
    for field_id, spec in contract.vehicle.fields.items():
        fields[field_id] = (field_type(contract, field_id, spec) | None, _field_info(spec, ...))
    fields.update(reservations=(list[reservation], ...), opportunity_id=(str | None, ...),
                  created_at=(Timestamp, ...), updated_at=(Timestamp, ...),
                  version_tag=(str, Field(..., description="la valeur de l'ETag")))
    return create_model("Vehicle", __config__=ConfigDict(extra="forbid"),
                        __doc__="Un véhicule du module « Véhicules »", **fields)


def settings_models(contract: Contract) -> tuple[type[BaseModel], type[BaseModel]]:
    """The shape of GET /settings/api-vo (every row) and of a PUT (any subset)."""
    right = create_model("FieldRight", __config__=BODY, dms_modifiable=(StrictBool, ...))
    full: dict[str, Any] = {}
    partial: dict[str, Any] = {}
    for section, kind in (("settings", "setting"), ("fields", "field"), ("capabilities", "capability")):
        value_type = right if kind == "field" else StrictBool
        rows = {row.id: (value_type, Field(..., description=row.label)) for row in contract.rows_of(kind)}
        # Optional but never null: a row absent is unchanged, a null row is refused (422).
        optional = {row_id: (value_type, Field(None, description=info.description))
                    for row_id, (_, info) in rows.items()}
        title = f"ApiVo{kind.capitalize()}Rows"  # never ApiVoSettings: the document's own name
        full[section] = (create_model(title, __config__=BODY, **rows), ...)
        partial[section] = (create_model(f"{title}Overlay", __config__=BODY, **optional), None)
    document = create_model("ApiVoSettings", __config__=BODY,
                            __doc__="Le paramétrage API VO actif du concessionnaire", **full)
    overlay = create_model("ApiVoSettingsOverlay", __config__=BODY,
                           __doc__="Tout sous-ensemble du paramétrage API VO, posé sur l'actif", **partial)
    return document, overlay


def opportunity_models(contract: Contract) -> SimpleNamespace:
    customer = create_model(
        "Customer", __config__=BODY, __doc__="Le client de l'opportunité",
        name=(Annotated[str, Strict(), StringConstraints(min_length=1, max_length=120)], ...),
        email=(Annotated[str, Strict(), StringConstraints(max_length=200)] | None, None),
        phone=(Annotated[str, Strict(), StringConstraints(max_length=40)] | None, None))
    order = create_model("Order", __config__=ConfigDict(extra="forbid"),
                         vehicle_id=(str, ...), price=(float, ...), reservation_id=(str, ...),
                         ordered_at=(Timestamp, ...), ordered_by=(str, ...))
    return SimpleNamespace(
        Customer=customer, Order=order,
        OpportunityCreate=create_model("OpportunityCreate", __config__=BODY, customer=(customer, ...)),
        OrderCreate=create_model("OrderCreate", __config__=BODY, vehicle_id=(Id, ...), price=(Money, ...)),
        Opportunity=create_model(
            "Opportunity", __config__=ConfigDict(extra="forbid"),
            __doc__="Une opportunité (module « Opportunités ») : reprises estimées et commande",
            id=(str, ...), dealer=(str, ...), customer=(customer, ...), trade_ins=(list[str], ...),
            order=(order | None, ...), created_at=(Timestamp, ...), created_by=(str, ...),
            lost_at=(Timestamp | None, None)))


def listing_models(contract: Contract, vehicle: type[BaseModel]) -> SimpleNamespace:
    status = literal(tuple(contract.statuses))
    reference = create_model("ReferenceVehicle", __config__=ConfigDict(extra="forbid"),
                             vin=(str, ...), registration=(str, ...), make=(str, ...), model=(str, ...),
                             version=(str, ...))
    event = create_model("Event", __config__=ConfigDict(extra="forbid"),
                         cursor=(int, ...), type=(str, ...), vehicle_id=(str | None, ...),
                         actor=(str | None, ...), at=(Timestamp, ...), data=(dict[str, Any], ...))
    return SimpleNamespace(
        VehicleQuery=create_model(
            "VehicleQuery", __config__=QUERY,
            status=(status | None, None), vin=(str | None, None), registration=(str | None, None),
            police_number=(str | None, None),
            updated_since=(IsoDateTime | None,
                           Field(None, description="date-heure ISO 8601 ; sans fuseau : UTC")),
            limit=(int, Field(100, ge=1, le=500)),
            cursor=(str | None, Field(None, pattern=r"^[0-9]{1,18}$",
                                      description="next_cursor de la page précédente"))),
        VehicleList=create_model("VehicleList", items=(list[vehicle], ...), next_cursor=(str | None, ...)),
        EventQuery=create_model("EventQuery", __config__=QUERY, after=(int, Field(0, ge=0, le=2**62)),
                                limit=(int, Field(100, ge=1, le=1000))),
        Event=event,
        EventList=create_model("EventList", items=(list[event], ...), next_cursor=(int, ...)),
        ReferenceQuery=create_model("ReferenceQuery", __config__=QUERY,
                                    vin=(str | None, None), registration=(str | None, None),
                                    make=(str | None, None), limit=(int, Field(50, ge=1, le=500))),
        ReferenceVehicle=reference,
        ReferenceList=create_model("ReferenceList", items=(list[reference], ...), total=(int, ...),
                                   wmi=(dict[str, str], Field(..., description="WMI → marque"))),
    )


def refusals(contract: Contract) -> SimpleNamespace:
    """Per operation, the refusals of schema-valid bodies by the contract's rules that JSON Schema
    cannot state (published with the operation, issue 15): cross-field constraints, prices ≤ 1
    (R7, per the dealer's settings), the 422 preconditions of a status move, a DATED end in
    the past, a stale If-Match."""
    def status(code: str) -> int:
        return contract.codes[code].status

    cross = tuple(Refusal(status("VALIDATION_ERROR"), "VALIDATION_ERROR", (c.field, c.other), c.message)
                  for c in contract.vehicle.constraints)
    def low_prices(fields: tuple[str, ...]) -> Refusal:
        return Refusal(status("PRICE_NOT_ALLOWED"), "PRICE_NOT_ALLOWED", fields,
                       "prix de vente ≤ 1 refusé quand uc_price_editable est à NON",
                       contract.rule_for("low_prices"))

    prices = (low_prices(tuple(contract.vehicle.price_fields)),)
    moves = tuple(Refusal(status(p.code), p.code, (p.field,), p.message, p.rule)
                  for p in contract.lifeline.preconditions.values() if status(p.code) == 422)
    # A creation's schema states these (`vat_by_origin`, `conditional_formats`); a patch meets
    # the vehicle's stored fields.
    vat = (Refusal(status("VALIDATION_ERROR"), "VALIDATION_ERROR",
                   (contract.vehicle.vat_field, contract.vehicle.vat_fixed_by),
                   "régime de TVA contraire à l'origine du véhicule", contract.rule_for("vat_regime")),)
    formats = tuple(
        Refusal(status("VALIDATION_ERROR"), "VALIDATION_ERROR", (name, *fmt.when),
                f"format {fmt.label} seulement si " + ", ".join(f"{k} = {v}" for k, v in fmt.when.items()))
        for name, spec in contract.vehicle.fields.items() for fmt in spec.formats or () if fmt.when)
    return SimpleNamespace(
        create_vehicle=cross + prices, estimate_trade_in=cross + prices,
        patch_vehicle=cross + prices + moves + vat + formats + (Refusal(
            status("PRECONDITION_FAILED"), "PRECONDITION_FAILED", ("If-Match",),
            "If-Match ne désigne pas la version actuelle du véhicule"),),
        create_reservation=(Refusal(status("VALIDATION_ERROR"), "VALIDATION_ERROR", ("until",),
                                    "date de fin d'une réservation DATED passée"),),
        place_order=(low_prices(("price",)),))


@functools.lru_cache(maxsize=8)
def build(contract: Contract) -> SimpleNamespace:
    """Every model of the OpenFlex API, for this contract (classes without state: built once)."""
    assert set(contract.enum_values("reconciliation")) == set(RECONCILIATIONS), "reconciliation enum drifted"
    reservation, reservation_create = reservation_models(contract)
    vehicle = vehicle_model(contract, reservation)
    settings, overlay = settings_models(contract)
    required = contract.vehicle.required_at_creation
    trade_in_sets = tuple(contract.vehicle.trade_in_sets)
    return SimpleNamespace(
        refusals=refusals(contract),
        Vehicle=vehicle, Reservation=reservation, ReservationCreate=reservation_create,
        ApiVoSettings=settings, ApiVoSettingsOverlay=overlay,
        VehicleCreate=vehicle_body(contract, "VehicleCreate", required=required,
                                   doc="Création d'un véhicule, en Pré-Rentrée (règle R1)"),
        VehiclePatch=vehicle_body(contract, "VehiclePatch", required=(), not_null=("status", *required),
                                  doc="JSON merge patch (RFC 7396) : null efface le champ"),
        TradeInEstimate=vehicle_body(contract, "TradeInEstimate",
                                     required=tuple(f for f in required if f not in trade_in_sets),
                                     doc="Estimation de reprise : le véhicule entre en Pré-Rentrée",
                                     fixed=contract.vehicle.trade_in_sets),
        **vars(opportunity_models(contract)), **vars(listing_models(contract, vehicle)))

