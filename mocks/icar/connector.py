"""The DMS-side client of the OpenFlex API VO.

Calls go through the one transport (`icarflex.mocks.common.transport`: urllib3's pooled
keep-alive connections, for a loopback OpenFlex and a remote https sandbox alike), a
timeout on every call, bounded retries with exponential backoff on timeouts, connection
errors and 5xx, each attempt logged; a 4xx is a refusal and is never retried. Every call
is written to the sync log (`SyncLog`), whatever its outcome.

A write is never applied twice: a PATCH carries `If-Match` with the ETag of the
vehicle as last read; after a timeout or a 5xx (the write may or may not have
landed) the vehicle is read again and, when it already carries every value of the
change, the write is counted as done instead of being sent again. A 412 (someone
changed the vehicle in between) leads to the same re-read.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import orjson
from icarflex.mocks.common.transport import Transport, TransportError, encode_json
from icarflex.mocks.common.wire import WireMapping
from icarflex.mocks.icar.synclog import FAILED, OK, REFUSED, CallContext, SyncEntry, SyncLog
from urllib3.util import Retry

USER_AGENT = "icarflex-icar-connector/0.1"
BACKOFF_CAP = 5.0


@dataclass(frozen=True)
class ConnectorSettings:
    base_url: str
    key_for: Callable[[str], str]   # dealer → the DMS key to use on OpenFlex
    timeout: float = 5.0
    retries: int = 3                # retries after the first attempt
    backoff: float = 0.2            # seconds before the first retry, doubled each time
    ca_bundle: str | None = None    # CA bundle of an https OpenFlex (None: the environment's, the system's)
    # OpenFlex's paths and JSON names (mocks/common/wire.py): the fakes' own unless a file says otherwise.
    mapping: WireMapping = field(default_factory=WireMapping)


@dataclass
class Outcome:
    """What a connector call ended with; `entry` is its sync log entry."""

    entry: SyncEntry
    body: Any = None
    etag: str | None = None

    @property
    def ok(self) -> bool:
        return self.entry.outcome == OK

    @property
    def refused(self) -> bool:
        return self.entry.outcome == REFUSED


@dataclass
class _Reply:
    status: int | None
    body: Any
    etag: str | None
    error: str | None

    @property
    def transient(self) -> bool:
        return self.status is None or self.status >= 500


class OpenFlexConnector:
    def __init__(self, settings: ConnectorSettings, log: SyncLog) -> None:
        self.settings = settings
        self.log = log
        # The transport resends only a connection it could not make; every other retry is
        # this connector's own, logged attempt by attempt in the sync log.
        self.transport = Transport(settings.base_url, timeout=settings.timeout, ca_certs=settings.ca_bundle,
                                   headers={"Accept": "application/json", "User-Agent": USER_AGENT},
                                   retries=Retry(total=1, connect=1, read=0, status=0, other=0, redirect=0,
                                                 raise_on_status=False, raise_on_redirect=False))

    # -- public calls -------------------------------------------------------------
    def get_vehicle(self, ctx: CallContext, vehicle_id: str) -> Outcome:
        return self._read(ctx, self._vehicle_path(vehicle_id), None)

    def get_settings(self, ctx: CallContext) -> Outcome:
        """The dealer's API VO parameterization, as OpenFlex serves it."""
        return self._read(ctx, self.settings.mapping.wire_path("settings"), None)

    def find_vehicles(self, ctx: CallContext, **filters: Any) -> Outcome:
        wanted = self.settings.mapping.to_wire({k: v for k, v in filters.items() if v is not None})
        return self._read(ctx, self.settings.mapping.wire_path("vehicles"), wanted)

    def _vehicle_path(self, vehicle_id: str) -> str:
        return self.settings.mapping.wire_path("vehicle", vehicle_id=quote(vehicle_id, safe=""))

    def patch_vehicle(self, ctx: CallContext, vehicle_id: str, change: Mapping[str, Any],
                      etag: str | None = None, *, landed: Mapping[str, Any] | None = None,
                      resume: bool = False) -> Outcome:
        """JSON merge patch of `change`, retried without ever being applied twice.

        `landed`: the values that show the write already landed (default: the change itself);
        `resume`: an earlier attempt may have landed (a crash cut it): read first, send only if not."""
        path = self._vehicle_path(vehicle_id)
        entry = self._entry(ctx, "PATCH", path, dict(change))
        proof = dict(landed) if landed is not None else dict(change)
        started, uncertain = time.monotonic(), resume
        for round_ in range(self.settings.retries + 1):
            if round_:
                self._sleep(round_)
            if etag is None or uncertain:
                read = self._send(entry, "GET", path, None, None, count=False)
                if read.transient:
                    continue
                if read.status != 200:
                    return self._finish(entry, read, REFUSED, started)
                if uncertain and applied(read.body, proof):
                    # The earlier attempt landed (its answer was lost): do not send it again.
                    entry.tries[-1]["landed"] = True
                    return self._finish(entry, _Reply(200, read.body, read.etag, None), OK, started)
                etag, uncertain = read.etag, False
            reply = self._send(entry, "PATCH", path, change, etag, count=True)
            if reply.status is not None and reply.status < 400:
                return self._finish(entry, reply, OK, started)
            if reply.status == 412 or reply.transient:
                uncertain = True
                continue
            return self._finish(entry, reply, REFUSED, started)
        return self._finish(entry, None, FAILED, started)

    # -- plumbing -------------------------------------------------------------------
    def _read(self, ctx: CallContext, path: str, params: dict[str, Any] | None) -> Outcome:
        entry = self._entry(ctx, "GET", path, params)
        started = time.monotonic()
        for round_ in range(self.settings.retries + 1):
            if round_:
                self._sleep(round_)
            reply = self._send(entry, "GET", path, None, None, count=True, params=params)
            if not reply.transient:
                outcome = OK if reply.status is not None and reply.status < 400 else REFUSED
                return self._finish(entry, reply, outcome, started)
        return self._finish(entry, None, FAILED, started)

    def _entry(self, ctx: CallContext, method: str, path: str, body: Any) -> SyncEntry:
        return SyncEntry(ctx, method, self._url(path), path, body)

    def _url(self, path: str) -> str:
        return self.settings.base_url.rstrip("/") + path

    def _send(self, entry: SyncEntry, method: str, path: str, body: Any, etag: str | None, *,
              count: bool, params: dict[str, Any] | None = None) -> _Reply:
        headers = {"Authorization": f"Bearer {self.settings.key_for(entry.context.dealer)}"}
        if etag:
            headers["If-Match"] = etag
        if count:
            entry.attempts += 1
        started = time.monotonic()
        reply = self._exchange(method, path, body, headers, params)
        entry.tries.append({"method": method, "status": reply.status, "error": reply.error,
                            "elapsed_ms": int((time.monotonic() - started) * 1000)})
        return reply

    def _exchange(self, method: str, path: str, body: Any, headers: dict[str, str],
                  params: dict[str, Any] | None) -> _Reply:
        mapping = self.settings.mapping
        data = None if body is None else encode_json(mapping.to_wire(body))
        try:
            answer = self.transport.request(method, path, body=data, headers=headers, params=params)
        except TransportError as exc:
            if exc.timed_out:
                return _Reply(None, None, None, f"timeout ({self.settings.timeout} s): {exc}"[:300])
            return _Reply(None, None, None, f"ConnectionError: {exc}"[:300])
        body = mapping.to_contract(_json_bytes(answer.content))
        return _Reply(answer.status, body, answer.header("ETag"), None)

    def _sleep(self, round_: int) -> None:
        time.sleep(min(self.settings.backoff * 2 ** (round_ - 1), BACKOFF_CAP))

    def _finish(self, entry: SyncEntry, reply: _Reply | None, outcome: str, started: float) -> Outcome:
        last = entry.tries[-1] if entry.tries else {}
        entry.outcome = outcome
        entry.status = reply.status if reply else last.get("status")
        if outcome == REFUSED and reply is not None:
            entry.problem = reply.body
        if outcome == FAILED:
            entry.error = last.get("error") or f"HTTP {last.get('status')}"
            entry.problem = None
        entry.duration_ms = int((time.monotonic() - started) * 1000)
        self.log.append(entry)
        return Outcome(entry, reply.body if reply else None, reply.etag if reply else None)


def applied(vehicle: Any, change: Mapping[str, Any]) -> bool:
    """Does the vehicle already carry every value of the change?"""
    return isinstance(vehicle, Mapping) and all(_same(vehicle.get(k), v) for k, v in change.items())


def _same(current: Any, wanted: Any) -> bool:
    numbers = (int, float)
    if isinstance(current, numbers) and isinstance(wanted, numbers) and not isinstance(wanted, bool) \
            and not isinstance(current, bool):
        return abs(float(current) - float(wanted)) < 1e-6
    return current == wanted


def _json_bytes(content: bytes) -> Any:
    """The answer as JSON; what is not JSON kept as `_raw` text (None when empty)."""
    if not content:
        return None
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return {"_raw": content.decode("utf-8", "replace")[:500]}

