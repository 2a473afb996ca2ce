"""The proxy as a WSGI app: read the call, judge it, forward it (or refuse it), relay, record.

Served by waitress like the fakes (`icarflex.mocks.common.server.LiveServer`). A request
body is read whole when small enough to judge (`REQUEST_LIMIT`), else streamed through
unread and recorded « non jugé ». The answer is relayed chunk by chunk as the target
sends it; its first `CAPTURE_LIMIT` bytes are kept for the journal. The entry is written
when the answer has been relayed (`Relay.close`), then audited and shown on the terminal.
"""
from __future__ import annotations

import itertools
import os
import re
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, BinaryIO
from urllib.parse import quote, urlsplit

import orjson
import urllib3
from icarflex.mocks.common.errors import PROBLEM_MIME, ApiError
from icarflex.scenarios.checker import OPENFLEX, Finding
from icarflex.scenarios.proxy.journal import JsonLinesJournal
from icarflex.scenarios.proxy.judge import Call, Identity, Judge, Verdict
from icarflex.scenarios.proxy.mapping import WireMapping
from icarflex.scenarios.proxy.upstream import CHUNK, Upstream, end_to_end
from urllib3.exceptions import HTTPError, ReadTimeoutError

REQUEST_LIMIT = 1024 * 1024     # request bodies read (and judged) up to this size
CAPTURE_LIMIT = 1024 * 1024     # answer bytes kept for the journal and the audit
RAW_KEPT = 2000                 # characters of a body that is not JSON kept in the journal
ADMIN_PREFIX = "/__admin/"      # a fake's controls (DESIGN §3), outside any real system's API
DEALERS_PATH = re.compile(r"^/__admin/dealers/?$")
DEALER_PATH = re.compile(r"^/__admin/dealers/(?P<dealer>[^/]+)/?$")
StartResponse = Callable[..., Any]


@dataclass
class Incoming:
    """The client's request as waitress gave it."""

    method: str
    wire_path: str                  # decoded (PATH_INFO), to judge by
    query: str
    headers: list[tuple[str, str]]
    body: bytes | BinaryIO | None
    unread: str | None = None       # why the body was streamed through unread
    raw_target: str | None = None   # the request target as the client sent it (%-escapes kept)

    @property
    def target_path(self) -> str:
        """What is sent on to the target: the client's own request target, byte for byte."""
        if self.raw_target:
            return self.raw_target
        return quote(self.wire_path, safe="/!$&'()*+,;=:@~") + (f"?{self.query}" if self.query else "")

    def header(self, name: str) -> str | None:
        return next((v for n, v in self.headers if n.lower() == name.lower()), None)


@dataclass
class Exchange:
    """One call through the proxy, from its request to its journal entry."""

    incoming: Incoming
    call: Call
    started: float
    correlation: str | None = None
    before: Mapping[str, Any] | None = None
    verdict: Verdict = field(default_factory=Verdict)


def read_incoming(environ: Mapping[str, Any]) -> Incoming:
    headers = [(key[5:].replace("_", "-").title(), value) for key, value in environ.items()
               if key.startswith("HTTP_")]
    for key, name in (("CONTENT_TYPE", "Content-Type"), ("CONTENT_LENGTH", "Content-Length")):
        if environ.get(key):
            headers.append((name, environ[key]))
    length = int(environ.get("CONTENT_LENGTH") or 0)
    stream = environ["wsgi.input"]
    body: bytes | BinaryIO | None = None
    unread = None
    if length > REQUEST_LIMIT:
        body, unread = stream, f"corps de {length} octets transmis sans être lu (au-delà de {REQUEST_LIMIT})"
    elif length:
        body = stream.read(length)
    path = environ.get("PATH_INFO") or "/"
    path = path.encode("latin-1").decode("utf-8", "replace")  # WSGI gives the path as latin-1
    raw = environ.get("REQUEST_URI") or None   # waitress: the request line's target, undecoded
    if raw and not raw.startswith("/"):        # absolute form (a client using us as its HTTP proxy)
        parts = urlsplit(raw)
        raw = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Incoming(environ["REQUEST_METHOD"], path, environ.get("QUERY_STRING", ""), headers, body, unread,
                    raw)


def parse_body(raw: bytes | None) -> tuple[Any, str | None]:
    """A JSON body and None, else what the journal keeps of it and why it is not judged."""
    if not raw:
        return None, None
    try:
        return orjson.loads(raw), None
    except orjson.JSONDecodeError:
        text = raw.decode("utf-8", "replace")
        return {"_raw": text[:RAW_KEPT]}, "corps illisible (pas du JSON)"


class ProxyApp:
    def __init__(self, upstream: Upstream, judge: Judge, journal: JsonLinesJournal, *,
                 keys: dict[str, Identity], mapping: WireMapping | None = None, enforce: bool = False,
                 system: str = "openflex", correlation_header: str | None = None,
                 show: Callable[[Mapping[str, Any], list[Finding]], None] | None = None) -> None:
        self.upstream, self.judge, self.journal = upstream, judge, journal
        self.keys = dict(keys)  # grows with the scratch dealers a fake makes (`_follow_dealers`)
        # The wire mapping is the OpenFlex API VO's; in front of ICAR, paths are kept as they are.
        self.mapping = (mapping or WireMapping()) if system == OPENFLEX else WireMapping()
        self.enforce, self.system = enforce, system
        self.correlation_header = correlation_header
        self.show = show or (lambda entry, findings: None)
        self._ids = itertools.count(1)
        self._prefix = f"{os.getpid():x}"

    # -- the call --------------------------------------------------------------------------
    def __call__(self, environ: Mapping[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        incoming = read_incoming(environ)
        exchange = self._exchange(incoming)
        if self.enforce and exchange.verdict.violations:
            error = ApiError.from_violations(exchange.verdict.violations)
            return self._answer_problem(exchange, error, start_response, answered_by="proxy")
        try:
            answer = self.upstream.open(incoming.method, incoming.target_path,
                                        self._forwarded_headers(exchange), incoming.body)
        except ApiError as error:  # unreachable (502), too slow (504)
            return self._answer_problem(exchange, error, start_response, answered_by="proxy")
        headers = end_to_end(answer.headers.items())
        if exchange.correlation:
            headers.append((self.correlation_header, exchange.correlation))
        start_response(f"{answer.status} {answer.reason or ''}".rstrip(), headers)
        return Relay(answer, lambda relay: self._record(
            exchange, answer.status, relay.body(), _content_type(answer.headers), relay.note))

    def _exchange(self, incoming: Incoming) -> Exchange:
        body, unreadable = (None, incoming.unread) if incoming.unread else parse_body(
            incoming.body if isinstance(incoming.body, bytes) else None)
        call = Call(incoming.method, self.mapping.contract_path(incoming.wire_path),
                    self.mapping.to_contract(body), unreadable, self._identity(incoming))
        exchange = Exchange(incoming, call, time.monotonic())
        if self.correlation_header:
            exchange.correlation = f"{self._prefix}-{next(self._ids)}"
        if self.system != OPENFLEX:
            return exchange  # ICAR's own API: journaled for the cross-system audit, not judged per call
        vehicle_id = self.judge.reads_before(call)
        if vehicle_id and call.unreadable is None:
            exchange.before = self._read_vehicle(incoming, vehicle_id)
        exchange.verdict = self.judge.verdict(call, exchange.before)
        return exchange

    def _identity(self, incoming: Incoming) -> Identity | None:
        scheme, _, key = (incoming.header("Authorization") or "").partition(" ")
        return self.keys.get(key.strip()) if scheme.lower() == "bearer" else None

    def _read_vehicle(self, incoming: Incoming, vehicle_id: str) -> Mapping[str, Any] | None:
        """The vehicle as the target shows it to this caller (its own key), when it lets it read it."""
        headers = {"Accept": "application/json"}
        if incoming.header("Authorization"):
            headers["Authorization"] = incoming.header("Authorization") or ""
        vehicle = self.mapping.to_contract(
            self.upstream.read_json(self.mapping.wire_path("vehicle", vehicle_id=vehicle_id), headers))
        return vehicle if _is_vehicle(vehicle) else None

    def _forwarded_headers(self, exchange: Exchange) -> list[tuple[str, str]]:
        headers = list(exchange.incoming.headers)
        if exchange.correlation:
            headers.append((self.correlation_header or "", exchange.correlation))
        return headers

    def _answer_problem(self, exchange: Exchange, error: ApiError, start_response: StartResponse,
                        answered_by: str) -> list[bytes]:
        problem = error.to_problem(exchange.incoming.wire_path)
        data = orjson.dumps(problem)
        headers = [("Content-Type", PROBLEM_MIME), ("Content-Length", str(len(data)))]
        if exchange.correlation:
            headers.append((self.correlation_header or "", exchange.correlation))
        start_response(f"{error.status} {HTTPStatus(error.status).phrase}", headers)
        self._record(exchange, error.status, data, PROBLEM_MIME, None, answered_by=answered_by)
        return [data]

    def _follow_dealers(self, call: Call, status: int, response: Any) -> None:
        """A fake's scratch dealer (`POST /__admin/dealers`) comes with keys: who they are is
        learnt from the answer, as the fake itself knows them; withdrawn with the dealer."""
        if not 200 <= status < 300:
            return
        if call.method == "POST" and DEALERS_PATH.match(call.path) and isinstance(response, dict):
            keys, dealer = response.get("keys"), response.get("dealer")
            if isinstance(keys, dict) and isinstance(dealer, str):
                self.keys.update({key: Identity(actor, dealer) for actor, key in keys.items()
                                  if isinstance(key, str)})
        elif call.method == "DELETE" and (match := DEALER_PATH.match(call.path)):
            for key in [k for k, who in list(self.keys.items()) if who.dealer == match["dealer"]]:
                self.keys.pop(key, None)

    # -- the journal ---------------------------------------------------------------------
    def _record(self, exchange: Exchange, status: int, raw: bytes | None, content_type: str,
                note: str | None, answered_by: str = "target") -> None:
        call = exchange.call
        response = self.mapping.to_contract(_response_body(raw, content_type, note))
        if call.path.startswith(ADMIN_PREFIX):
            self._follow_dealers(call, status, response)
            if call.method == "GET":
                response = None  # the simulator's own controls (its journal): not copied into this one
        entry: dict[str, Any] = {
            "at": datetime.now(UTC).isoformat(timespec="milliseconds"), "system": self.system,
            "dealer": call.identity.dealer if call.identity else None,
            "actor": call.identity.actor if call.identity else None,
            "method": call.method, "path": call.path, "query": exchange.incoming.query or None,
            "request": call.body, "status": status, "response": response,
            "vehicle_id": call.vehicle_id or (response.get("id") if _is_vehicle(response) else None),
            "vehicle_before": exchange.before,
            "vehicle_after": response if call.method != "GET" and 200 <= status < 300
            and _is_vehicle(response) else None,
            "verdict": exchange.verdict.to_json(), "judged": exchange.verdict.judged,
            "unjudged": exchange.verdict.unjudged,
            "answered_by": answered_by, "target": self.upstream.target,
            "elapsed_ms": round((time.monotonic() - exchange.started) * 1000, 2),
        }
        if call.path != exchange.incoming.wire_path:
            entry["wire_path"] = exchange.incoming.wire_path
        if exchange.correlation:
            entry["correlation"] = exchange.correlation
        if note:
            entry["note"] = note
        with self.journal.lock:
            entry["seq"] = self.journal.next_seq()
            findings = self.judge.audit(entry)
            entry["audit"] = [{"kind": f.kind, "rule": f.rule, "field": f.field, "code": f.code,
                               "message": f.message} for f in findings]
            self.journal.write(entry)
        self.show(entry, findings)


class Relay:
    """The target's answer relayed as it comes, its first bytes kept, the entry recorded (`done`)
    before the last chunk is handed on: a client that sends its next call on seeing the answer
    whole finds this one in the journal first, as the target's own journal has it."""

    def __init__(self, answer: urllib3.BaseHTTPResponse, done: Callable[[Relay], None]) -> None:
        self.answer, self.done = answer, done
        self.captured = bytearray()
        self.size, self.overflow, self.complete = 0, False, False
        self.note: str | None = None
        self._recorded = False

    def __iter__(self) -> Iterator[bytes]:
        held: bytes | None = None   # one chunk behind what is read, so the record precedes the end
        try:
            for chunk in self.answer.stream(CHUNK, decode_content=False):
                self._keep(chunk)
                if held is not None:
                    yield held
                held = chunk
            self.complete = True
        except ReadTimeoutError:
            self.note = f"réponse interrompue : la cible s'est tue ({self.size} octets relayés)"
        except (HTTPError, OSError) as exc:
            self.note = f"réponse interrompue ({self.size} octets relayés) : {exc}"
        self._record()
        if held is not None:
            yield held

    def _keep(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if not self.overflow:
            self.overflow = len(self.captured) + len(chunk) > CAPTURE_LIMIT
            if self.overflow:
                self.captured.clear()
            else:
                self.captured += chunk

    def body(self) -> bytes | None:
        """The answer's bytes for the journal, decoded when the target compressed them (the
        client got them as sent); None when they are not kept (`note` says why)."""
        if not self.complete:
            return None
        if self.overflow:
            self.note = self.note or f"réponse de {self.size} octets relayée, non journalisée (au-delà " \
                                     f"de {CAPTURE_LIMIT})"
            return None
        encoding = (self.answer.headers.get("Content-Encoding") or "identity").strip().lower()
        if encoding == "identity":
            return bytes(self.captured)
        if encoding not in ("gzip", "x-gzip", "deflate"):
            self.note = f"réponse encodée {encoding}, non journalisée"
            return None
        inflate = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib, told by their header
        try:
            data = inflate.decompress(bytes(self.captured), CAPTURE_LIMIT)
        except zlib.error as exc:
            self.note = f"réponse {encoding} illisible ({exc})"
            return None
        if inflate.unconsumed_tail:
            self.note = f"réponse {encoding} de plus de {CAPTURE_LIMIT} octets décodée, non journalisée"
            return None
        return data

    def _record(self) -> None:
        if not self._recorded:
            self._recorded = True
            self.done(self)

    def close(self) -> None:
        if self.complete:
            self.answer.release_conn()
        else:  # not read to its end (the client went away, the target stalled): the connection is spent
            self.answer.close()
            self.note = self.note or f"client parti avant la fin de la réponse ({self.size} octets relayés)"
        self._record()


def _no_body(answer: urllib3.BaseHTTPResponse) -> bool:
    return answer.headers.get("Content-Length") in (None, "0")


def _content_type(headers: Mapping[str, str]) -> str:
    return (headers.get("Content-Type") or "").split(";")[0].strip().lower()


def _response_body(raw: bytes | None, content_type: str, note: str | None) -> Any:
    """The answer as journaled: JSON parsed, other text kept short, nothing for binary or none."""
    if raw is None:
        return {"_raw": f"({note})"} if note else None
    if not raw:
        return None
    if content_type == "application/json" or content_type.endswith("+json"):
        return parse_body(raw)[0]
    return None


def _is_vehicle(body: Any) -> bool:
    return isinstance(body, dict) and isinstance(body.get("id"), str) and \
        isinstance(body.get("status"), str) and "vin" in body
