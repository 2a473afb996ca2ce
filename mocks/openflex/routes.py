"""The OpenFlex API VO under `/api/v1`: thin routes, one backend method each (STYLE §3).

Each route parses with the contract-built models (`schemas.build`), calls the
backend method of the same name and returns its result. Who may call an operation
comes from the contract where it says so (the creation transition's actors, the
actors of the lifeline); reservations and orders are the OpenFlex user's screens.
OpenAPI links (create → get → patch) drive schemathesis' stateful runs.
"""
from __future__ import annotations

from typing import Any

from flask import request
from icarflex.contracts import Contract
from icarflex.mocks.common.api import Api, Reply
from icarflex.mocks.common.app import backend
from icarflex.mocks.openflex import schemas
from icarflex.mocks.openflex.vehicles import etag
from pydantic import BaseModel

TITLE = "OpenFlex API VO (icarflex fake)"
DESCRIPTION = ("Faux OpenFlex : API VO, modules Véhicules et Opportunités, appliquant le contrat "
               "d'interface ICAR DMS (paramétrage API VO, ligne de vie, règles R1–R8).")
OPENFLEX_USER = ("openflex_user",)  # reservations and orders are made in OpenFlex's own screens
# If-Match: "*" or a list of entity-tags, possibly empty (RFC 9110 §13.1.1, §5.6.1); the fake
# also takes a tag without its quotes (v1 for "v1"), as careless clients send it.
ENTITY_TAG = r'(W/)?("[\x21\x23-\x7e]*"|[\x21\x23-\x2b\x2d-\x7e]+)'
ENTITY_TAGS = rf"^\s*(|\*|{ENTITY_TAG}(\s*,\s*{ENTITY_TAG})*)\s*$"
IF_MATCH = {"name": "If-Match", "in": "header", "required": False,
            "schema": {"type": "string", "pattern": ENTITY_TAGS},
            "description": "ETag lu (GET) : 412 si le véhicule a changé depuis ; * accepte toute version"}
ETAG_HEADER = {"ETag": {"description": "Version du véhicule (forte)", "schema": {"type": "string"}}}
CREATED_HEADERS = {**ETAG_HEADER,
                   "Location": {"description": "URL du véhicule", "schema": {"type": "string"}}}


def creation_actors(contract: Contract) -> tuple[str, ...]:
    """Who may ask to create a vehicle: the entry transition's actors and gated actors (rule R1)."""
    entry = next(t for t in contract.lifeline.transitions if t.from_ is None)
    return entry.makers


def estimation_actors(contract: Contract) -> tuple[str, ...]:
    """Who makes opportunities and trade-in estimations: the entry transition's own actors."""
    return next(t for t in contract.lifeline.transitions if t.from_ is None).actors


def vehicle_writers(contract: Contract) -> tuple[str, ...]:
    """Every actor the lifeline names; the rule engine decides what each may write."""
    names = {a for t in contract.lifeline.transitions for a in t.makers}
    return tuple(a for a in contract.actors if a in names)


def link(operation_id: str, **parameters: str) -> dict[str, Any]:
    return {"operationId": operation_id, "parameters": parameters}


def dump(body: BaseModel) -> dict[str, Any]:
    """A parsed body as JSON values, only the keys sent (a merge patch's null kept)."""
    return body.model_dump(mode="json", exclude_unset=True)


def vehicle_reply(vehicle: dict[str, Any], prefix: str, created: bool = False) -> Reply:
    headers = {"ETag": etag(vehicle)}
    if created:
        headers["Location"] = f"{prefix}/vehicles/{vehicle['id']}"
    return Reply(vehicle, headers=headers)


def build_api(contract: Contract) -> Api:
    m = schemas.build(contract)
    api = Api("openflex", TITLE, DESCRIPTION)
    on_vehicle = {"GetVehicle": link("get_vehicle", vehicle_id="$response.body#/id"),
                  "PatchVehicle": link("patch_vehicle", vehicle_id="$response.body#/id"),
                  "ReserveVehicle": link("create_reservation", vehicle_id="$response.body#/id")}
    vehicle_ops(api, m, contract, on_vehicle)
    reservation_ops(api, m)
    opportunity_ops(api, m, contract, on_vehicle)
    feed_ops(api, m)
    return api


def vehicle_ops(api: Api, m: Any, contract: Contract, on_vehicle: dict[str, Any]) -> None:
    @api.operation("GET", "/settings/api-vo", summary="Paramétrage API VO actif du concessionnaire",
                   response=m.ApiVoSettings, tags=("settings",))
    def get_settings(who: Any) -> Any:
        return backend().get_settings(who.dealer)

    @api.operation("PUT", "/settings/api-vo", summary="Modifier le paramétrage API VO (fusion)",
                   actors=("admin",), body=m.ApiVoSettingsOverlay, response=m.ApiVoSettings,
                   tags=("settings",))
    def put_settings(who: Any, body: BaseModel) -> Any:
        return backend().put_settings(who.dealer, dump(body))

    @api.operation("POST", "/vehicles", summary="Créer un véhicule (Pré-Rentrée)",
                   actors=creation_actors(contract), body=m.VehicleCreate, response=m.Vehicle, status=201,
                   tags=("vehicles",), refusals=m.refusals.create_vehicle,
                   links=on_vehicle, response_headers=CREATED_HEADERS)
    def create_vehicle(who: Any, body: BaseModel) -> Any:
        return vehicle_reply(backend().create_vehicle(who.dealer, who.actor, dump(body)), api.prefix, True)

    @api.operation("GET", "/vehicles", summary="Lister les véhicules (filtres, pagination)",
                   query=m.VehicleQuery, response=m.VehicleList, tags=("vehicles",))
    def list_vehicles(who: Any, query: BaseModel) -> Any:
        return backend().list_vehicles(who.dealer, **query.model_dump())

    @api.operation("GET", "/vehicles/<vehicle_id>", summary="Lire un véhicule (ETag)", response=m.Vehicle,
                   tags=("vehicles",), response_headers=ETAG_HEADER, links={
                       "PatchVehicleIfMatch": link("patch_vehicle", vehicle_id="$response.body#/id",
                                                   **{"header.If-Match": "$response.header.ETag"})})
    def get_vehicle(who: Any, vehicle_id: str) -> Any:
        return vehicle_reply(backend().get_vehicle(who.dealer, vehicle_id), api.prefix)

    @api.operation("PATCH", "/vehicles/<vehicle_id>", summary="Modifier un véhicule (JSON merge patch)",
                   actors=vehicle_writers(contract), body=m.VehiclePatch, response=m.Vehicle,
                   tags=("vehicles",), header_params=(IF_MATCH,), response_headers=ETAG_HEADER,
                   content_types=("application/merge-patch+json", "application/json"),
                   refusals=m.refusals.patch_vehicle,
                   links={"GetVehicle": link("get_vehicle", vehicle_id="$response.body#/id")})
    def patch_vehicle(who: Any, vehicle_id: str, body: BaseModel) -> Any:
        vehicle = backend().patch_vehicle(who.dealer, who.actor, vehicle_id, dump(body),
                                          request.headers.get("If-Match"))
        return vehicle_reply(vehicle, api.prefix)


def reservation_ops(api: Api, m: Any) -> None:
    @api.operation("POST", "/vehicles/<vehicle_id>/reservations", summary="Réserver un véhicule",
                   actors=OPENFLEX_USER, body=m.ReservationCreate, response=m.Reservation, status=201,
                   tags=("reservations",), refusals=m.refusals.create_reservation,
                   links={"DeleteReservation": link(
                       "delete_reservation", vehicle_id="$response.body#/vehicle_id",
                       reservation_id="$response.body#/id")})
    def create_reservation(who: Any, vehicle_id: str, body: BaseModel) -> Any:
        return backend().create_reservation(who.dealer, who.actor, vehicle_id, dump(body))

    @api.operation("DELETE", "/vehicles/<vehicle_id>/reservations/<reservation_id>",
                   summary="Lever une réservation", actors=OPENFLEX_USER, status=204, tags=("reservations",))
    def delete_reservation(who: Any, vehicle_id: str, reservation_id: str) -> Any:
        backend().delete_reservation(who.dealer, who.actor, vehicle_id, reservation_id)
        return Reply(None, 204)


def opportunity_ops(api: Api, m: Any, contract: Contract, on_vehicle: dict[str, Any]) -> None:
    on_opportunity = {name: link(op, opportunity_id="$response.body#/id") for name, op in (
        ("GetOpportunity", "get_opportunity"), ("EstimateTradeIn", "estimate_trade_in"),
        ("PlaceOrder", "place_order"))}

    @api.operation("POST", "/opportunities", summary="Créer une opportunité",
                   actors=estimation_actors(contract), body=m.OpportunityCreate, response=m.Opportunity,
                   status=201, tags=("opportunities",),
                   links=on_opportunity)
    def create_opportunity(who: Any, body: BaseModel) -> Any:
        return backend().create_opportunity(who.dealer, who.actor, dump(body))

    @api.operation("GET", "/opportunities/<opportunity_id>", summary="Lire une opportunité",
                   response=m.Opportunity, tags=("opportunities",))
    def get_opportunity(who: Any, opportunity_id: str) -> Any:
        return backend().get_opportunity(who.dealer, opportunity_id)

    @api.operation("POST", "/opportunities/<opportunity_id>/trade-ins", summary="Estimation de reprise",
                   actors=estimation_actors(contract), body=m.TradeInEstimate, response=m.Vehicle, status=201,
                   tags=("opportunities",), links=on_vehicle, response_headers=CREATED_HEADERS,
                   refusals=m.refusals.estimate_trade_in)
    def estimate_trade_in(who: Any, opportunity_id: str, body: BaseModel) -> Any:
        vehicle = backend().estimate_trade_in(who.dealer, who.actor, opportunity_id, dump(body))
        return vehicle_reply(vehicle, api.prefix, True)

    @api.operation("POST", "/opportunities/<opportunity_id>/order", summary="Commander un véhicule",
                   actors=OPENFLEX_USER, body=m.OrderCreate, response=m.Opportunity, status=201,
                   tags=("opportunities",), refusals=m.refusals.place_order)
    def place_order(who: Any, opportunity_id: str, body: BaseModel) -> Any:
        return backend().place_order(who.dealer, who.actor, opportunity_id, dump(body))


def feed_ops(api: Api, m: Any) -> None:
    @api.operation("GET", "/events", summary="Flux des changements (curseur)", query=m.EventQuery,
                   response=m.EventList, tags=("events",))
    def list_events(who: Any, query: BaseModel) -> Any:
        return backend().list_events(who.dealer, query.after, query.limit)

    @api.operation("GET", "/reference/vehicles", summary="Référentiel du rapprochement (lecture)",
                   query=m.ReferenceQuery, response=m.ReferenceList, tags=("reference",))
    def list_reference_vehicles(who: Any, query: BaseModel) -> Any:
        return backend().list_reference_vehicles(**query.model_dump())
