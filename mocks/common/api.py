"""Declare an operation once: its route, who may call it, its pydantic models, its OpenAPI entry.

`Api.operation(...)` registers a thin view that authenticates the caller, parses the
body and query with the given pydantic models (refusing malformed JSON, wrong types
and unknown fields as problem+json) and serialises the result. `Api.document()`
builds `/openapi.json` from the same models, so the published spec cannot drift from
what is validated. Route name = backend method = OpenAPI `operationId` (STYLE §3).
"""
from __future__ import annotations

import json as stdlib_json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from flask import Blueprint, Response, request
from icarflex.mocks.common.auth import Identity, require
from icarflex.mocks.common.errors import PROBLEM_MIME, ApiError, ValidationFailed
from icarflex.mocks.common.jsonio import dumps_sorted_bytes
from pydantic import BaseModel, ValidationError

JSON_TYPES = ("application/json", "application/merge-patch+json")
ERROR_STATUSES = {
    "400": "Requête mal formée (JSON invalide)", "401": "Clé d'API absente ou inconnue",
    "403": "Opération ou champ interdit à cet acteur", "404": "Ressource introuvable",
    "409": "Conflit ou changement de statut refusé", "412": "Version périmée (If-Match)",
    "413": "Corps trop volumineux", "415": "Type de contenu non JSON",
    "422": "Corps invalide ou règle du contrat non respectée",
}


@dataclass
class Reply:
    """A result with its HTTP status and headers (the default status is the operation's)."""

    body: Any
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    actors: tuple[str, ...]
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: Any
    status: int
    tags: tuple[str, ...]
    links: dict[str, Any]
    header_params: tuple[dict[str, Any], ...]
    response_headers: dict[str, Any]
    content_types: tuple[str, ...] = ("application/json",)


class Api:
    def __init__(self, name: str, title: str, description: str, prefix: str = "/api/v1") -> None:
        self.title, self.description, self.prefix = title, description, prefix
        self.blueprint = Blueprint(name, name, url_prefix=prefix)
        self.operations: list[Operation] = []
        self.extra_schemas: list[type[BaseModel]] = []

    def operation(self, method: str, path: str, *, summary: str, actors: Sequence[str] = (),
                  body: type[BaseModel] | None = None, query: type[BaseModel] | None = None,
                  response: Any = None, status: int = 200, tags: Sequence[str] = (),
                  links: dict[str, Any] | None = None, header_params: Sequence[dict[str, Any]] = (),
                  response_headers: dict[str, Any] | None = None,
                  content_types: Sequence[str] = ("application/json",),
                  ) -> Callable[[Callable[..., Any]], Any]:
        """Register `fn` as the view of METHOD path; `content_types` are the body media types
        published in OpenAPI (every JSON type is accepted whatever this says)."""
        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            op = Operation(method, path, fn.__name__, summary, tuple(actors), body, query, response,
                           status, tuple(tags), links or {}, tuple(header_params), response_headers or {},
                           tuple(content_types))
            self.operations.append(op)

            def view(**path_params: Any) -> Response:
                kwargs: dict[str, Any] = dict(path_params)
                kwargs["who"] = require(*op.actors)
                if op.body is not None:
                    kwargs["body"] = parse_body(op.body)
                if op.query is not None:
                    kwargs["query"] = parse_query(op.query)
                return render(fn(**kwargs), op.status)

            self.blueprint.add_url_rule(path, endpoint=op.operation_id, view_func=view, methods=[method])
            return fn
        return decorator

    def document(self, version: str = "0.1.0") -> dict[str, Any]:
        from icarflex.mocks.common.openapi import build_document
        return build_document(self, version)


def parse_json_object() -> dict[str, Any]:
    """The request body as a JSON object: 415 if not JSON, 400 if malformed, 422 if not an object."""
    mimetype = request.mimetype
    if mimetype not in JSON_TYPES and not mimetype.endswith("+json"):
        raise ApiError("VALIDATION_ERROR", f"Content-Type {mimetype or 'absent'} : "
                       "un corps JSON est attendu", status=415, fields=["Content-Type"])
    raw = request.get_data(cache=True)
    try:
        data = _parse_strict(raw) if raw else None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"JSON invalide : {exc}", status=400, fields=["(body)"]) from exc
    if not isinstance(data, dict):
        raise ValidationFailed("Le corps doit être un objet JSON", fields=["(body)"])
    return data


def _unencodable(value: Any, path: str = "") -> list[str]:
    """Paths of the strings (keys or values) that are not valid Unicode text."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return [path or "(body)"]
        return []
    if isinstance(value, dict):
        out = []
        for key, item in value.items():
            shown = f"{path}.{key.encode('utf-8', 'backslashreplace').decode()}".lstrip(".")
            out += _unencodable(key, shown) + _unencodable(item, shown)
        return out
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _unencodable(v, f"{path}.{i}".lstrip("."))]
    return []


def _parse_strict(raw: bytes) -> Any:
    """RFC 8259 JSON (orjson refuses NaN and Infinity too); what orjson cannot read (a lone
    surrogate escape, an int over 64 bits) is read by the stdlib, which alone decides a refusal:
    a lone surrogate (\\ud800) reads as JSON there but is no Unicode text, refused naming where."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        data = stdlib_json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    unwritable = _unencodable(data)
    if unwritable:
        raise ValidationFailed("Texte Unicode invalide (surrogat isolé)", fields=unwritable)
    return data


def _no_constant(name: str) -> Any:
    """NaN and Infinity are not JSON (RFC 8259), though Python's parser reads them."""
    raise ValueError(f"{name} n'est pas une valeur JSON")


def parse_body(model: type[BaseModel]) -> BaseModel:
    return validate(model, parse_json_object())


def parse_query(model: type[BaseModel]) -> BaseModel:
    # A parameter given twice reaches the model as a list, refused unless the field is one.
    return validate(model, {k: v if len(v) > 1 else v[0] for k, v in request.args.lists()})


def validate(model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{"field": ".".join(str(p) for p in e["loc"]) or "(body)", "type": e["type"],
                   "message": e["msg"]} for e in exc.errors(include_url=False, include_input=False)]
        fields = list(dict.fromkeys(e["field"] for e in errors))
        detail = "; ".join(f"{e['field']} : {e['message']}" for e in errors)
        raise ValidationFailed(detail, fields=fields, errors=errors) from exc


def render(result: Any, default_status: int) -> Response:
    if isinstance(result, Response):
        return result
    reply = result if isinstance(result, Reply) else Reply(result)
    status = reply.status or default_status
    if status == 204:
        return Response(status=204, headers=reply.headers)
    body = reply.body
    if isinstance(body, BaseModel):
        body = body.model_dump(mode="json")
    return Response(dumps_sorted_bytes(body), status=status,
                    headers=[("Content-Type", "application/json"), *reply.headers.items()])


def flask_path_to_openapi(path: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-zA-Z_]+)>", r"{\1}", path)


def path_params(path: str) -> list[str]:
    return re.findall(r"<(?:[a-z]+:)?([a-zA-Z_]+)>", path)


__all__ = ["Api", "Identity", "PROBLEM_MIME", "Reply", "parse_body", "parse_json_object", "validate"]
