"""Declare an operation once: its route, who may call it, its pydantic models, its OpenAPI entry.

`Api.operation(...)` registers a thin view that authenticates the caller, parses the
body and query with the given pydantic models (refusing malformed JSON, wrong types
and unknown fields as problem+json) and serialises the result. `Api.document()`
builds `/openapi.json` from the same models, so the published spec cannot drift from
what is validated. Route name = backend method = OpenAPI `operationId` (STYLE §3).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, request
from icarflex.mocks.common.auth import Identity, require
from icarflex.mocks.common.bodies import read_json
from icarflex.mocks.common.errors import PROBLEM_MIME, ApiError, ReferenceNotFound, ValidationFailed
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


@dataclass(frozen=True)
class Refusal:
    """A refusal of a schema-valid request, by a rule JSON Schema cannot state (a date against
    another or against today, a stale version): published with the operation (its description
    and `x-icarflex-refusals`), so a client, and schemathesis, know the document names it."""

    status: int
    code: str
    fields: tuple[str, ...]
    reason: str
    rule: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = {"status": self.status, "code": self.code, "fields": list(self.fields), "reason": self.reason}
        return {**out, "rule": self.rule} if self.rule else out


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
    refusals: tuple[Refusal, ...] = ()


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
                  refusals: Sequence[Refusal] = (),
                  ) -> Callable[[Callable[..., Any]], Any]:
        """Register `fn` as the view of METHOD path; `content_types` are the body media types
        published in OpenAPI (every JSON type is accepted whatever this says); `refusals`: those
        of schema-valid requests, by rules the schema cannot state."""
        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            op = Operation(method, path, fn.__name__, summary, tuple(actors), body, query, response,
                           status, tuple(tags), links or {}, tuple(header_params), response_headers or {},
                           tuple(content_types), tuple(refusals))
            self.operations.append(op)

            def view(**path_params: Any) -> Response:
                kwargs: dict[str, Any] = dict(path_params)
                kwargs["who"] = require(*op.actors)
                check_headers(op.header_params)
                if op.body is not None:
                    kwargs["body"] = parse_body(op.body)
                if op.query is not None:
                    kwargs["query"] = parse_query(op.query)
                try:
                    return render(fn(**kwargs), op.status)
                except ApiError as exc:
                    if exc.status == 404 and "body" in kwargs:
                        raise _as_reference(exc, path_params, kwargs["body"]) from exc
                    raise

            self.blueprint.add_url_rule(path, endpoint=op.operation_id, view_func=view, methods=[method])
            return fn
        return decorator

    def document(self, version: str = "0.1.0") -> dict[str, Any]:
        from icarflex.mocks.common.openapi import build_document
        return build_document(self, version)


def _as_reference(missing: ApiError, path_params: dict[str, Any], body: BaseModel) -> ApiError:
    """A 404 raised while serving a body: the URL's resource stays 404; a resource the body
    names (the error's `fields`, or the field holding the missing id) becomes a 409 (ReferenceNotFound)."""
    ident = getattr(missing, "ident", None)
    if ident is not None and ident in path_params.values():
        return missing
    sent = body.model_dump(exclude_unset=True)
    fields = [f for f in missing.fields if f in sent] or [
        name for name, value in sent.items() if ident is not None and value == ident]
    return ReferenceNotFound(missing, fields) if fields else missing


def check_headers(params: Sequence[dict[str, Any]]) -> None:
    """Header parameters sent against their published pattern: 422 naming the header."""
    for param in params:
        pattern = param.get("schema", {}).get("pattern")
        value = request.headers.get(param["name"])
        if pattern and value is not None and re.search(pattern, value) is None:
            raise ValidationFailed(f"{param['name']} : valeur {value!r} mal formée (motif {pattern})",
                                   fields=[param["name"]])


def parse_json_object() -> dict[str, Any]:
    """The request body as a JSON object under the limits of `bodies`: 415 if not JSON, 400 if
    malformed, 413 if too large, 422 if too deep, out of range or not an object."""
    mimetype = request.mimetype
    if mimetype not in JSON_TYPES and not mimetype.endswith("+json"):
        raise ApiError("VALIDATION_ERROR", f"Content-Type {mimetype or 'absent'} : "
                       "un corps JSON est attendu", status=415, fields=["Content-Type"])
    data = read_json()
    if not isinstance(data, dict):
        raise ValidationFailed("Le corps doit être un objet JSON", fields=["(body)"])
    return data


def parse_body(model: type[BaseModel], strict: bool | None = None) -> BaseModel:
    """The body validated by `model`; `strict`: no coercion anywhere in it ("12" is no 12)."""
    return validate(model, parse_json_object(), strict)


def parse_query(model: type[BaseModel]) -> BaseModel:
    # A parameter given twice reaches the model as a list, refused unless the field is one.
    return validate(model, {k: v if len(v) > 1 else v[0] for k, v in request.args.lists()})


def validate(model: type[BaseModel], data: dict[str, Any], strict: bool | None = None) -> BaseModel:
    try:
        return model.model_validate(data, strict=strict)
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


__all__ = ["Api", "Identity", "PROBLEM_MIME", "Refusal", "Reply", "parse_body", "parse_json_object",
           "validate"]
