"""Build an OpenAPI 3.1 document from an `Api`'s operations and their pydantic models."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from icarflex.mocks.common.api import ERROR_STATUSES, PROBLEM_MIME, flask_path_to_openapi, path_params
from pydantic import BaseModel, TypeAdapter

if TYPE_CHECKING:
    from icarflex.mocks.common.api import Api, Operation

REF = "#/components/schemas/{model}"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details, with the contract's code, fields and rule ids",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "code": {"type": "string"}, "detail": {"type": "string"}, "instance": {"type": "string"},
        "label": {"type": "string"},
        "fields": {"type": "array", "items": {"type": "string"}},
        "rule": {"type": "array", "items": {"type": "string"}},
        "violations": {"type": "array", "items": {"type": "object"}},
    },
}


class _Schemas:
    def __init__(self) -> None:
        self.components: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}

    def ref(self, annotation: Any) -> dict[str, Any]:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            schema = annotation.model_json_schema(ref_template=REF)
            name = annotation.__name__
        else:
            schema = TypeAdapter(annotation).json_schema(ref_template=REF)
            name = None
        for def_name, definition in schema.pop("$defs", {}).items():
            self._add(def_name, definition)
        if name is None:
            return schema
        self._add(name, schema)
        return {"$ref": REF.format(model=name)}

    def _add(self, name: str, schema: dict[str, Any]) -> None:
        """One component per name: two different models of the same name would shadow each other."""
        if self.components.get(name, schema) != schema:
            raise ValueError(f"OpenAPI: two different models are named {name!r}")
        self.components[name] = schema


def build_document(api: Api, version: str) -> dict[str, Any]:
    schemas = _Schemas()
    paths: dict[str, Any] = {}
    for op in api.operations:
        paths.setdefault(api.prefix + flask_path_to_openapi(op.path), {})[op.method.lower()] = \
            _operation(op, schemas)
    for model in api.extra_schemas:
        schemas.ref(model)
    return {
        "openapi": "3.1.0",
        "info": {"title": api.title, "version": version, "description": api.description},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.components.items())),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "Clé d'API d'un acteur et d'un concessionnaire"}},
        },
        "security": [{"bearer": []}],
    }


def _operation(op: Operation, schemas: _Schemas) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in path_params(op.path)]
    if op.query is not None:
        query_schema = op.query.model_json_schema(ref_template=REF)
        required = set(query_schema.get("required", []))
        for name, prop in query_schema.get("properties", {}).items():
            params.append({"name": name, "in": "query", "required": name in required,
                           "schema": _never_null(prop), **({"description": prop["description"]}
                                                           if "description" in prop else {})})
    params += list(op.header_params)
    responses: dict[str, Any] = {}
    success: dict[str, Any] = {"description": op.summary}
    if op.response is not None and op.status != 204:
        success["content"] = {"application/json": {"schema": schemas.ref(op.response)}}
    if op.response_headers:
        success["headers"] = op.response_headers
    if op.links:
        success["links"] = op.links
    responses[str(op.status)] = success
    for status, text in ERROR_STATUSES.items():
        responses.setdefault(status, {"description": text, "content": {
            PROBLEM_MIME: {"schema": {"$ref": REF.format(model="Problem")}}}})
    out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary,
                           "tags": list(op.tags), "responses": responses}
    lines = [f"Acteurs autorisés : {', '.join(op.actors)}"] if op.actors else []
    if op.refusals:
        out["x-icarflex-refusals"] = [r.to_json() for r in op.refusals]
        lines += ["Refus d'un corps conforme au schéma, par une règle qu'il ne peut pas dire :"] + [
            f"- {r.status} {r.code}{f' ({r.rule})' if r.rule else ''} [{', '.join(r.fields)}] : {r.reason}"
            for r in op.refusals]
    if lines:
        out["description"] = "\n".join(lines)
    if params:
        out["parameters"] = params
    if op.body is not None:
        body_schema = schemas.ref(op.body)
        out["requestBody"] = {"required": True, "content": {
            media_type: {"schema": body_schema} for media_type in op.content_types}}
    return out


def _never_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema without pydantic's `null` branch: a parameter is absent or
    text, never null (`?x=null` would be the string "null")."""
    branches = [b for b in schema.get("anyOf", []) if b.get("type") != "null"]
    if not branches or len(branches) == len(schema.get("anyOf", [])):
        return schema
    out = {k: v for k, v in schema.items() if k != "anyOf" and not (k == "default" and v is None)}
    return {**out, **branches[0]} if len(branches) == 1 else {**out, "anyOf": branches}
