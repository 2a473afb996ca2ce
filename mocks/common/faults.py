"""Fault injection, in one layer: latency and error answers on the business API.

Set through `PUT /__admin/faults`; applied before any route runs, never inside one.
`count` bounds how many requests are faulted (None: until cleared).
"""
from __future__ import annotations

import random
import re
import threading
import time
from typing import Any

from flask import Flask, request
from icarflex.mocks.common.errors import ApiError
from pydantic import BaseModel, ConfigDict, Field, field_validator


class FaultSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    latency_ms: int = Field(0, ge=0, le=60_000)
    error_rate: float = Field(0.0, ge=0.0, le=1.0)
    error_status: int = Field(503, ge=500, le=599)
    paths: str = Field("^/api/", description="regex of the paths the faults apply to")
    methods: list[str] | None = Field(None, description="methods faulted (all when null)")
    count: int | None = Field(None, ge=0, description="requests left to fault (null: unlimited)")

    @field_validator("paths")
    @classmethod
    def _a_regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from exc
        return value


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

    def to_json(self) -> dict[str, Any]:
        return self.settings.model_dump()


def install(app: Flask, faults: Faults) -> None:
    app.before_request(faults.apply)
