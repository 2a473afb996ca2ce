"""Read a request body as JSON under the fakes' limits, once for every operation of both fakes.

Every body reaches a handler through `read_json` (the API plumbing, never a handler), which
refuses, each with a problem naming the limit: a body over `MAX_CONTENT_LENGTH` bytes (413),
malformed JSON or NaN/Infinity (400), nesting deeper than `MAX_JSON_DEPTH` (422), a number
of magnitude beyond 2^53 − 1, past which integers are not exact in every JSON reader (I-JSON,
RFC 7493 §2.2; 422: `1e400` is never read as infinity and sent on as `null`, nor a 30-digit
integer as a rounded float), and a lone surrogate (422). A number written with a zero
fraction (`2510.0`) is the integer it equals (JSON Schema's `integer` makes no difference),
so an `integer` field takes it.
"""
from __future__ import annotations

import json as stdlib_json
import math
from typing import Any

import orjson
from flask import current_app, request
from icarflex.mocks.common.errors import ApiError, ValidationFailed
from werkzeug.exceptions import RequestEntityTooLarge

MAX_JSON_DEPTH = 32            # objects and arrays nested in one another; bodies of both fakes use ≤ 4
MAX_SAFE_INTEGER = 2**53 - 1   # I-JSON (RFC 7493 §2.2): beyond, an integer is not exact everywhere


class LimitExceeded(ApiError):
    """A body over one of the limits: the problem names it (`limit`: its name and value)."""

    def __init__(self, code: str, detail: str, limit: str, value: int, status: int,
                 fields: list[str] | None = None) -> None:
        super().__init__(code, detail, status=status, fields=fields or ["(body)"],
                         extra={"limit": {"name": limit, "value": value}})


def read_json() -> Any:
    """The request's body as JSON values (None when empty), under every limit above."""
    raw = _raw_body()
    if not raw:
        return None
    try:
        return _checked(orjson.loads(raw), (), 1, _max_depth(), texts=False)
    except orjson.JSONDecodeError:  # what orjson does not read, the stdlib alone judges
        return _checked(_stdlib_loads(raw), (), 1, _max_depth(), texts=True)


def _raw_body() -> bytes:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    length = request.content_length
    if limit is not None and length is not None and length > limit:
        raise _too_large(length, limit)
    try:
        return request.get_data(cache=True)
    except RequestEntityTooLarge as exc:  # a chunked body, read past the limit
        raise _too_large(None, limit or 0) from exc


def _too_large(length: int | None, limit: int) -> LimitExceeded:
    size = f"{length} octets" if length is not None else "plus"
    return LimitExceeded("PAYLOAD_TOO_LARGE", f"Corps de {size} : la limite est de {limit} octets "
                         "(max_content_length)", "max_content_length", limit, 413)


def _max_depth() -> int:
    return int(current_app.config.get("MAX_JSON_DEPTH") or MAX_JSON_DEPTH)


def _depth_error(limit: int, path: str) -> LimitExceeded:
    return LimitExceeded("VALIDATION_ERROR", f"JSON imbriqué sur plus de {limit} niveaux "
                         "(max_json_depth)", "max_json_depth", limit, 422, [path or "(body)"])


def _stdlib_loads(raw: bytes) -> Any:
    """RFC 8259 JSON read by the stdlib: a lone surrogate escape (\\ud800) reads there, and is
    refused by `_checked`; NaN and Infinity never read; nesting past its stack is a depth refusal."""
    try:
        return stdlib_json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except RecursionError as exc:
        raise _depth_error(_max_depth(), "(body)") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"JSON invalide : {exc}", status=400, fields=["(body)"]) from exc


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} n'est pas une valeur JSON")


def _checked(value: Any, path: tuple[str, ...], depth: int, limit: int, texts: bool) -> Any:
    """`value` with its integral floats as ints; refuses what is past a limit, naming where
    (`texts`: check strings too, for what the stdlib read)."""
    if isinstance(value, dict):
        if depth > limit:
            raise _depth_error(limit, _shown(path))
        if texts:
            for key in value:
                _text(key, path + (key,))
        return {key: _checked(item, path + (key,), depth + 1, limit, texts) for key, item in value.items()}
    if isinstance(value, list):
        if depth > limit:
            raise _depth_error(limit, _shown(path))
        return [_checked(item, path + (str(i),), depth + 1, limit, texts) for i, item in enumerate(value)]
    if isinstance(value, str):
        return _text(value, path) if texts else value
    if isinstance(value, bool) or value is None:
        return value
    if not (math.isfinite(value) and abs(value) <= MAX_SAFE_INTEGER):
        raise _number_error(path, value)
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _number_error(path: tuple[str, ...], value: float) -> LimitExceeded:
    where = _shown(path)
    shown = "infini" if math.isinf(value) else "au-delà"
    return LimitExceeded("VALIDATION_ERROR", f"{where} : nombre {shown} de ±{MAX_SAFE_INTEGER} (I-JSON, "
                         "RFC 7493 ; json_number_range)", "json_number_range", MAX_SAFE_INTEGER, 422, [where])


def _text(value: str, path: tuple[str, ...]) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationFailed("Texte Unicode invalide (surrogat isolé)", fields=[_shown(path)]) from exc
    return value


def _shown(path: tuple[str, ...]) -> str:
    """A body path as the problems name it (`fields.mileage`), printable whatever its keys."""
    return ".".join(key.encode("utf-8", "backslashreplace").decode() for key in path) or "(body)"
