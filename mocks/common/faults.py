"""Fault injection, in one layer: latency and error answers on the business API, and the
business events a dealership throws at a connector.

Set through `PUT /__admin/faults`; applied around the routes, never inside one (no flag in
any handler). `count` bounds how many requests are faulted (None: until cleared).

`events` are data too, each matching a request (method, path regex, values its JSON body
holds) and doing one thing to it, in a WSGI layer around the whole app:
- `duplicate`: the request is delivered twice (a DMS push sent again by the network); the
  caller gets the first answer, the second goes through the fake like any request;
- `drop_after_commit`: the request is served (its write lands), then the connection is
  dropped before the answer is complete: the caller must not apply it twice;
- `follow_up`: another actor acts right before or after it (`then`: a request with that
  actor's key, its path filled from the matched path's named groups and the answer's
  top-level fields) — a dealer flips a row mid-workflow, an OpenFlex user changes the
  destination after the physical entry, a dated reservation expires.
"""
from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from io import BytesIO
from typing import Any, Literal

import orjson
from flask import Flask, request
from icarflex.mocks.common.errors import ApiError
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from werkzeug.test import EnvironBuilder


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from exc
    return value


class FollowUp(BaseModel):
    """What another actor does around the matched request."""

    model_config = ConfigDict(extra="forbid")
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str = Field(max_length=500, description="{name}: a named group of the matched path, "
                                                  "or a top-level field of its answer")
    key: str = Field(min_length=1, max_length=200, description="API key of the actor who makes it")
    body: Any = None
    when: Literal["before", "after"] = "after"


class BusinessEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["duplicate", "drop_after_commit", "follow_up"]
    method: str = Field("PATCH", max_length=10)
    path: str = Field(max_length=500, description="regex the whole request path must match")
    body_has: dict[str, Any] = Field({}, description="values the request's JSON body must hold")
    count: int | None = Field(1, ge=0, description="requests left to match (null: unlimited)")
    then: FollowUp | None = None

    _check_path = field_validator("path")(classmethod(lambda cls, value: _regex(value)))

    @model_validator(mode="after")
    def _follow_up_says_what(self) -> BusinessEvent:
        if (self.kind == "follow_up") != (self.then is not None):
            raise ValueError("`then` is required for a follow_up, and only for it")
        return self


class FaultSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    latency_ms: int = Field(0, ge=0, le=60_000)
    error_rate: float = Field(0.0, ge=0.0, le=1.0)
    error_status: int = Field(503, ge=500, le=599)
    paths: str = Field("^/api/", description="regex of the paths the faults apply to")
    methods: list[str] | None = Field(None, description="methods faulted (all when null)")
    count: int | None = Field(None, ge=0, description="requests left to fault (null: unlimited)")
    events: list[BusinessEvent] = Field([], max_length=50, description="business events (see module doc)")

    _check_paths = field_validator("paths")(classmethod(lambda cls, value: _regex(value)))


class Faults:
    def __init__(self, seed: int) -> None:
        self.settings = FaultSettings()
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def set(self, settings: FaultSettings) -> None:
        re.compile(settings.paths)
        with self._lock:
            self.settings = settings

    def _take(self) -> FaultSettings | None:
        s = self.settings
        if (s.latency_ms == 0 and s.error_rate == 0) or not re.search(s.paths, request.path):
            return None
        if s.methods and request.method not in s.methods:
            return None
        with self._lock:
            if s.count is not None:
                if s.count == 0:
                    return None
                self.settings = s.model_copy(update={"count": s.count - 1})
        return s

    def apply(self) -> None:
        s = self._take()
        if s is None:
            return
        if s.latency_ms:
            time.sleep(s.latency_ms / 1000)
        if s.error_rate and self._random.random() < s.error_rate:
            raise ApiError("INJECTED_FAULT", "Panne injectée par /__admin/faults", status=s.error_status)

    def take_event(self, method: str, path: str, body: bytes) -> tuple[BusinessEvent, dict[str, str]] | None:
        """The first event matching this request, its count taken down; with the path's named groups."""
        with self._lock:
            events = self.settings.events
            for index, event in enumerate(events):
                match = re.fullmatch(event.path, path)
                if event.count == 0 or event.method != method or match is None:
                    continue
                if event.body_has and not _holds(body, event.body_has):
                    continue
                if event.count is not None:
                    events = [*events[:index], event.model_copy(update={"count": event.count - 1}),
                              *events[index + 1:]]
                    self.settings = self.settings.model_copy(update={"events": events})
                return event, {k: v for k, v in match.groupdict().items() if v is not None}
        return None

    def to_json(self) -> dict[str, Any]:
        return self.settings.model_dump()


def _holds(body: bytes, wanted: dict[str, Any]) -> bool:
    try:
        data = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return False
    return isinstance(data, dict) and all(data.get(k) == v for k, v in wanted.items())


Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class DroppedAfterCommit(ConnectionAbortedError):
    """Raised mid-answer: the server closes the connection (the write has landed)."""


class BusinessEvents:
    """The WSGI layer that plays `events` around the app (the routes never see it)."""

    def __init__(self, app: Wsgi, faults: Faults) -> None:
        self.app, self.faults = app, faults

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not self.faults.settings.events:
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = BytesIO(body)
        taken = self.faults.take_event(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), body)
        if taken is None:
            return self.app(environ, start_response)
        event, groups = taken
        if event.then is not None and event.then.when == "before":
            self._follow(event.then, groups, {})
        status, headers, content = self._call(dict(environ))
        if event.kind == "duplicate":
            self._call({**environ, "wsgi.input": BytesIO(body)})
        if event.then is not None and event.then.when == "after":
            self._follow(event.then, groups, _json_fields(content))
        start_response(status, headers)
        return _dropped(content) if event.kind == "drop_after_commit" else [content]

    def _call(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        captured: dict[str, Any] = {}

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured.update(status=status, headers=headers)
        chunks = self.app(environ, start)
        try:
            content = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        return captured["status"], captured["headers"], content

    def _follow(self, then: FollowUp, groups: dict[str, str], answer: dict[str, Any]) -> None:
        path = then.path.format_map({**{k: str(v) for k, v in answer.items()}, **groups})
        builder = EnvironBuilder(path=path, method=then.method, json=then.body,
                                 headers={"Authorization": f"Bearer {then.key}"})
        try:
            self._call(builder.get_environ())
        finally:
            builder.close()


def _json_fields(content: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(content) if content else None
    except orjson.JSONDecodeError:
        return {}
    return {k: v for k, v in data.items() if isinstance(v, (str, int))} if isinstance(data, dict) else {}


def _dropped(content: bytes) -> Iterator[bytes]:
    """Half the answer, then the connection closes: the caller never learns the write landed."""
    yield content[: max(1, len(content) // 2)]
    raise DroppedAfterCommit("connexion coupée après l'écriture (panne injectée)")


def install(app: Flask, faults: Faults) -> None:
    app.before_request(faults.apply)
    app.wsgi_app = BusinessEvents(app.wsgi_app, faults)  # type: ignore[method-assign]
