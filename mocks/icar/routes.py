"""The ICAR fake's HTTP API under `/api/v1`: thin views, one backend call each (STYLE §3).

Route name = backend method = OpenAPI operationId. Operations that call OpenFlex
also document 502 (UPSTREAM_REFUSED) and 504 (UPSTREAM_UNAVAILABLE).
"""
from __future__ import annotations

from typing import Any

from icarflex.contracts import Contract
from icarflex.mocks.common.api import Api, Reply, flask_path_to_openapi
from icarflex.mocks.common.app import backend
from icarflex.mocks.common.auth import Identity
from icarflex.mocks.icar import schemas as s
from werkzeug.routing import BaseConverter

USER = ("icar_user",)
PREFIX = "/api/v1"
UPSTREAM_ERRORS = {
    "502": "OpenFlex a refusé l'appel (UPSTREAM_REFUSED) : son problème est dans `upstream`",
    "504": "OpenFlex injoignable après les nouvelles tentatives (UPSTREAM_UNAVAILABLE)",
}
RECORD_LINKS = {
    "GetVehicle": {"operationId": "get_vehicle", "parameters": {"id": "$response.body#/id"}},
    "BookPhysicalEntry": {"operationId": "book_physical_entry", "parameters": {"id": "$response.body#/id"}},
    "AddFrevoLine": {"operationId": "add_frevo_line", "parameters": {"id": "$response.body#/id"}},
    "CreateInvoice": {"operationId": "create_invoice", "parameters": {"id": "$response.body#/id"}},
}

# The first record of a page leads to the same operations (stateful runs start from a seeded stock).
LISTED_LINKS = {name: {"operationId": link["operationId"], "parameters": {"id": "$response.body#/items/0/id"}}
                for name, link in RECORD_LINKS.items()}


class IcarApi(Api):
    """An `Api` whose operations that reach OpenFlex document the two upstream errors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.upstream_operations: set[str] = set()

    def document(self, version: str = "0.1.0") -> dict[str, Any]:
        doc = super().document(version)
        problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for op in self.operations:
            if op.operation_id in self.upstream_operations:
                path = doc["paths"][self.prefix + flask_path_to_openapi(op.path)][op.method.lower()]
                for status, text in UPSTREAM_ERRORS.items():
                    path["responses"][status] = {"description": text, "content": problem}
        return doc


class RecordIdConverter(BaseConverter):
    """A DMS record id (32 hex digits), so `/vehicles/match` never reads as a record's path."""

    regex = "[0-9a-f]{32}"


def _location(record: dict[str, Any]) -> dict[str, str]:
    return {"Location": f"{PREFIX}/vehicles/{record['id']}"}


def build_api(contract: Contract) -> IcarApi:
    """The API, its models typed by `contract` (the one the app serves)."""
    m = s.models(contract)
    api = IcarApi("icar", "ICAR DMS (fake)", "Le stock VO du DMS ICAR et son connecteur vers l'API VO "
                  "d'OpenFlex : rapprochement, entrée physique, FREVO, facturation, journal de synchro.",
                  PREFIX)
    api.upstream_operations |= {"match_vehicle", "book_physical_entry", "add_frevo_line", "update_vehicle",
                                "write_openflex_fields", "create_invoice", "replay_sync_entry"}
    api.blueprint.record_once(lambda state: state.app.url_map.converters.update(record=RecordIdConverter))
    tags = ("vehicles",)

    @api.operation("POST", "/vehicles/match", summary="Rapprocher un VEH OpenFlex (ARRIVAGE)", actors=USER,
                   body=m.MatchRequest, response=m.DmsVehicle, status=201, tags=tags, links=RECORD_LINKS)
    def match_vehicle(who: Identity, body: m.MatchRequest) -> Reply:
        record = backend().match_vehicle(who.dealer, body)
        return Reply(record, headers=_location(record))

    @api.operation("GET", "/vehicles", summary="VEH du stock ICAR", actors=USER, query=m.VehicleQuery,
                   response=m.DmsVehicleList, tags=tags, links=LISTED_LINKS)
    def list_vehicles(who: Identity, query: m.VehicleQuery) -> Any:
        return backend().list_vehicles(who.dealer, query)

    @api.operation("GET", "/vehicles/<record:id>", summary="Un VEH du stock ICAR", actors=USER,
                   response=m.DmsVehicle, tags=tags)
    def get_vehicle(who: Identity, id: str) -> Any:  # noqa: A002 - the path parameter's name
        return backend().get_vehicle(who.dealer, id)

    @api.operation("POST", "/vehicles/<record:id>/physical-entry",
                   summary="Entrée physique : N° de police, STOCK",
                   actors=USER, body=m.PhysicalEntryRequest, response=m.DmsVehicle, tags=tags,
                   refusals=s.REFUSALS["book_physical_entry"])
    def book_physical_entry(who: Identity, id: str, body: m.PhysicalEntryRequest) -> Any:  # noqa: A002
        return backend().book_physical_entry(who.dealer, id, body)

    @api.operation("POST", "/vehicles/<record:id>/frevo", summary="Ligne de FREVO ; total poussé à OpenFlex",
                   actors=USER, body=s.FrevoRequest, response=m.DmsVehicle, status=201, tags=tags)
    def add_frevo_line(who: Identity, id: str, body: s.FrevoRequest) -> Any:  # noqa: A002
        return backend().add_frevo_line(who.dealer, id, body)

    @api.operation("PATCH", "/vehicles/<record:id>",
                   summary="Kilométrage, TVA récupérable, poussés à OpenFlex",
                   actors=USER, body=m.UpdateRequest, response=m.DmsVehicle, tags=tags)
    def update_vehicle(who: Identity, id: str, body: m.UpdateRequest) -> Any:  # noqa: A002
        return backend().update_vehicle(who.dealer, id, body)

    @api.operation("POST", "/vehicles/<record:id>/openflex-writes",
                   summary="Écrire n'importe quel champ dans OpenFlex comme le DMS (scénarios négatifs)",
                   actors=USER, body=s.OpenflexWriteRequest, response=m.OpenflexWriteResult, tags=tags)
    def write_openflex_fields(who: Identity, id: str, body: s.OpenflexWriteRequest) -> Any:  # noqa: A002
        return backend().write_openflex_fields(who.dealer, id, body)

    @api.operation("POST", "/vehicles/<record:id>/invoices",
                   summary="Facturer : FACTURE, sortie poussée à OpenFlex",
                   actors=USER, body=m.InvoiceRequest, response=m.DmsVehicle, status=201, tags=tags,
                   refusals=s.REFUSALS["create_invoice"])
    def create_invoice(who: Identity, id: str, body: m.InvoiceRequest) -> Any:  # noqa: A002
        return backend().create_invoice(who.dealer, id, body)

    @api.operation("GET", "/sync-log", summary="Journal des appels à OpenFlex", actors=(*USER, "admin"),
                   query=s.SyncLogQuery, response=s.SyncLogPage, tags=("sync",))
    def list_sync_log(who: Identity, query: s.SyncLogQuery) -> Any:
        dealer = query.dealer if who.actor == "admin" else who.dealer
        return backend().list_sync_log(dealer, query)

    @api.operation("POST", "/sync-log/<int:id>/replay",
                   summary="Rejouer une écriture FAILED du journal (mêmes valeurs, même N° de police)",
                   actors=(*USER, "admin"), response=m.ReplayResult, tags=("sync",))
    def replay_sync_entry(who: Identity, id: int) -> Any:  # noqa: A002
        return backend().replay_sync_entry(None if who.actor == "admin" else who.dealer, id)

    @api.operation("GET", "/outbox", summary="Opérations enregistrées avant leur envoi à OpenFlex",
                   actors=(*USER, "admin"), query=s.OutboxQuery, response=s.OutboxPage, tags=("sync",))
    def list_outbox(who: Identity, query: s.OutboxQuery) -> Any:
        return backend().list_outbox(query.dealer if who.actor == "admin" else who.dealer, query)

    @api.operation("POST", "/outbox/resume",
                   summary="Reprise : rejouer toute opération restée ouverte (après un arrêt brutal)",
                   actors=(*USER, "admin"), response=s.OutboxPage, tags=("sync",))
    def resume_operations(who: Identity) -> Any:
        return backend().resume_operations(None if who.actor == "admin" else who.dealer)

    @api.operation("GET", "/police-register", summary="Livre de police (N° attribués, jamais réutilisés)",
                   actors=USER, query=s.RegisterQuery, response=s.RegisterPage, tags=("vehicles",))
    def list_police_register(who: Identity, query: s.RegisterQuery) -> Any:
        return backend().list_police_register(who.dealer, query)

    return api
