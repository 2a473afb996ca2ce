"""Typed API errors and their one rendering as RFC 9457 problem+json.

A backend raises an `ApiError` (or builds one from the rule engine's violations);
`register_error_handlers` renders it, and Flask's own 400/404/405/413/415 too, so
every error a client sees has the same shape: `code`, `fields`, `rule`, `label`.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from flask import Flask, Response, json, request
from icarflex.contracts import Violation, load_contract
from werkzeug.exceptions import HTTPException

PROBLEM_MIME = "application/problem+json"
PROBLEM_BASE = "https://icarflex.dev/problems/"

# Flask/werkzeug statuses rendered as problems, with the contract code they carry.
_HTTP_CODES = {400: "VALIDATION_ERROR", 401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND",
               405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 412: "PRECONDITION_FAILED",
               413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE", 422: "VALIDATION_ERROR"}


class ApiError(Exception):
    """An error answered as problem+json; `code` is one of the contract's error codes."""

    def __init__(self, code: str, detail: str, *, status: int | None = None, fields: Sequence[str] = (),
                 rules: Sequence[str] = (), violations: Sequence[Violation] = (), label: str | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        known = load_contract().codes.get(code)
        self.code = code
        self.status = status or (known.status if known else 400)
        self.title = known.title if known else code.replace("_", " ").capitalize()
        self.detail = detail
        self.fields = list(fields)
        self.rules = list(rules)
        self.violations = list(violations)
        self.label = label
        self.extra = extra or {}
        super().__init__(detail)

    @classmethod
    def from_violations(cls, violations: Sequence[Violation]) -> ApiError:
        """One error for a refused write: the first violation's code, every field and rule."""
        first = violations[0]
        return cls(first.code, "; ".join(f"{v.label} : {v.message}" for v in violations),
                   fields=_unique(v.field for v in violations if v.field),
                   rules=_unique(v.rule for v in violations if v.rule),
                   violations=violations, label=first.label)

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.code.lower().replace("_", "-"),
            "title": self.title, "status": self.status, "code": self.code, "detail": self.detail,
            "fields": self.fields, "rule": self.rules,
            "violations": [v.to_json() for v in self.violations],
        }
        if self.label:
            body["label"] = self.label
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


def _unique(items: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


class NotFound(ApiError):
    def __init__(self, what: str, ident: str) -> None:
        super().__init__("NOT_FOUND", f"{what} {ident} introuvable")
        self.ident = ident


class Forbidden(ApiError):
    def __init__(self, detail: str, rules: Sequence[str] = ()) -> None:
        super().__init__("FORBIDDEN", detail, rules=rules)


class Conflict(ApiError):
    def __init__(self, detail: str, fields: Sequence[str] = ()) -> None:
        super().__init__("CONFLICT", detail, fields=fields)


class PreconditionFailed(ApiError):
    def __init__(self, detail: str) -> None:
        super().__init__("PRECONDITION_FAILED", detail, fields=["If-Match"])


class ValidationFailed(ApiError):
    def __init__(self, detail: str, fields: Sequence[str] = (), status: int = 422,
                 errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__("VALIDATION_ERROR", detail, status=status, fields=fields,
                         extra={"errors": errors} if errors else None)


class ReferenceNotFound(ApiError):
    """A body names a resource that does not exist: 409 CONFLICT naming the body's field (the
    same body succeeds once that resource exists: a matter of state, not of shape), so that a
    404 always means the URL's own resource is unknown."""

    def __init__(self, missing: ApiError, fields: Sequence[str]) -> None:
        super().__init__("CONFLICT", f"{', '.join(fields)} : {missing.detail} (référence du corps)",
                         fields=fields, extra={**missing.extra, "reference": {"fields": list(fields)}})


def problem_response(error: ApiError) -> Response:
    response = Response(json.dumps(error.to_problem(request.path)), status=error.status,
                        mimetype=PROBLEM_MIME)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="icarflex"'
    return response


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    error = ApiError(_HTTP_CODES.get(status, "HTTP_ERROR"), exc.description or exc.name, status=status)
    response = problem_response(error)
    allowed = getattr(exc, "valid_methods", None)
    if status == 405 and allowed:
        response.headers["Allow"] = ", ".join(allowed)
    return response


def _server_error(exc: Exception) -> Response:
    # A 500 is a bug of ours; it still answers a problem so clients never parse HTML.
    error = ApiError("INTERNAL_ERROR", f"{type(exc).__name__}: {exc}", status=500)
    return problem_response(error)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ApiError, problem_response)
    app.register_error_handler(HTTPException, _http_error)
    if not app.testing:
        app.register_error_handler(Exception, _server_error)
