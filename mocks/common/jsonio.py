"""Fast JSON for the hot paths (store documents, events, journal, responses), with orjson.

`dumps` / `loads` keep the meaning the stdlib gave them here: `dumps` writes compact
UTF-8 text and turns what JSON does not know into text (`default=str`); `loads` reads
strict JSON (RFC 8259: no NaN / Infinity). `OrjsonProvider` is Flask's JSON provider
on both fakes: the same output as Flask's default one (keys sorted, dates as HTTP
dates), faster.
"""
from __future__ import annotations

import json
from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider

_PASSTHROUGH = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS
_FLASK = _PASSTHROUGH | orjson.OPT_SORT_KEYS
JSONDecodeError = orjson.JSONDecodeError  # a ValueError


def dumps_bytes(value: Any) -> bytes:
    try:
        return orjson.dumps(value, default=str, option=_PASSTHROUGH)
    except TypeError:  # beyond orjson (an int over 64 bits, …): the stdlib, as before
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def dumps(value: Any) -> str:
    return dumps_bytes(value).decode()


def loads(text: str | bytes | None) -> Any:
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # what only the stdlib reads (an int over 64 bits, …)
        return json.loads(text)


def dumps_sorted_bytes(value: Any) -> bytes:
    """What `OrjsonProvider.dumps` writes (Flask's response JSON: keys sorted), as bytes."""
    try:
        return orjson.dumps(value, default=DefaultJSONProvider.default, option=_FLASK)
    except TypeError:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                          default=DefaultJSONProvider.default).encode()


class OrjsonProvider(DefaultJSONProvider):
    """Flask's default JSON provider, serialised by orjson (indent or other options: the stdlib)."""

    ensure_ascii = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if set(kwargs) - {"separators"} or not self.sort_keys or self.ensure_ascii is not False:
            return super().dumps(obj, **kwargs)
        try:
            return orjson.dumps(obj, default=self.default, option=_FLASK).decode()
        except TypeError:
            return super().dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return super().loads(s, **kwargs) if kwargs else orjson.loads(s)
