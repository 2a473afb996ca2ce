"""A lean keep-alive HTTP/1.1 client for loopback targets, straight over a socket.

`requests` costs about twice the client-side time of a bare `http.client` call
(≈0.9 ms against ≈0.5 ms a request here), and `http.client` itself spends a good part of
the rest parsing headers through the `email` package: a replay makes tens of thousands
of loopback calls. `LeanHttp(base_url, timeout)` writes each request in one `sendall`,
reads the answer (Content-Length, chunked, or until close), keeps one connection per
thread, checks that a kept connection was not closed by the server before reusing it, and
sends a request again on a fresh connection only when the kept one turned out to be dead
and the request cannot have been applied (idempotent, or failed while being sent).
It speaks plain `http://` only, with no proxy, .netrc or CA bundle: callers use it for
loopback targets (`lean_capable`) and keep `requests` for anything else.
"""
from __future__ import annotations

import ipaddress
import json
import select
import socket
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import orjson

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
WITH_BODY = frozenset({"POST", "PUT", "PATCH"})   # a Content-Length even when empty (as http.client)
MAX_HEAD = 64 * 1024                              # status line and headers of an answer
_SAFE_URL = "!#$%&'()*+,/:;=?@[]~"                # what `requests` leaves unquoted in a URL


def is_loopback(url: str) -> bool:
    """A target on this machine (127.0.0.0/8, ::1, localhost): never behind a proxy."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def lean_capable(url: str) -> bool:
    """Can `LeanHttp` serve this base URL (plain http on this machine)?"""
    return urlsplit(url).scheme == "http" and is_loopback(url)


class TransportError(Exception):
    """No HTTP answer: refused, reset, timed out or not HTTP. `timed_out` tells a timeout apart."""

    def __init__(self, detail: str, *, timed_out: bool = False) -> None:
        super().__init__(detail)
        self.timed_out = timed_out


class Headers:
    """An answer's headers: `get` ignores case, `items` keeps them as sent."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs
        self._lower = {name.lower(): value for name, value in pairs}

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._lower.get(name.lower(), default)

    def items(self) -> Iterator[tuple[str, str]]:
        return iter(self._pairs)


@dataclass
class Answer:
    status: int
    headers: Headers
    content: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


def encode_json(body: Any) -> bytes:
    """JSON bytes (orjson; the standard library for what orjson refuses, e.g. lone surrogates)."""
    try:
        return orjson.dumps(body)
    except TypeError:
        return json.dumps(body).encode()


def query_string(params: Mapping[str, Any] | None) -> str:
    """`?a=1&b=2` of the params that are not None (as `requests` builds it), else ''."""
    if not params:
        return ""
    pairs = [(k, v) for k, v in params.items() if v is not None]
    return "?" + urlencode(pairs, doseq=True) if pairs else ""


class _Dead(Exception):
    """The connection died under a request; `unsent`: before the request could reach the server."""

    def __init__(self, detail: str, *, unsent: bool) -> None:
        super().__init__(detail)
        self.detail, self.unsent = detail, unsent


class _Connection:
    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.poller = select.poll()
        self.poller.register(self.sock, select.POLLIN)
        self.used = False

    def idle_and_open(self) -> bool:
        """Nothing to read on a kept connection: the server did not close (or spoil) it."""
        try:
            return not self.poller.poll(0)
        except OSError:
            return False

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class LeanHttp:
    def __init__(self, base_url: str, timeout: float, headers: Mapping[str, str] | None = None) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http":
            raise ValueError(f"LeanHttp speaks plain http only, not {parts.scheme!r}")
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        host = f"[{self.host}]" if ":" in self.host else self.host
        self._host_header = f"{host}:{self.port}" if parts.port else host
        self.headers = dict(headers or {})
        self._local = threading.local()
        self._all: list[_Connection] = []
        self._lock = threading.Lock()

    def request(self, method: str, path: str, *, body: bytes | None = None,
                headers: Mapping[str, str] | None = None, params: Mapping[str, Any] | None = None) -> Answer:
        """Send one request and read its whole answer (raises `TransportError` when there is none)."""
        data = self._encode(method, self.prefix + path + query_string(params), body, headers)
        conn = self._connection()
        reused = conn.used
        try:
            return self._exchange(conn, method, data)
        except _Dead as dead:
            if not (reused and (dead.unsent or method in IDEMPOTENT)):
                raise TransportError(dead.detail) from dead.__cause__
        try:  # the kept connection had died: once more on a fresh one
            return self._exchange(self._connection(), method, data)
        except _Dead as dead:
            raise TransportError(dead.detail) from dead.__cause__

    def _encode(self, method: str, target: str, body: bytes | None,
                headers: Mapping[str, str] | None) -> bytes:
        if not target.isascii() or any(c <= " " for c in target):
            target = quote(target, safe=_SAFE_URL)
        sent = {"Host": self._host_header, **self.headers, **(headers or {})}
        if body is not None and not any(k.lower() == "content-type" for k in sent):
            sent["Content-Type"] = "application/json"
        if body is not None or method in WITH_BODY:
            sent["Content-Length"] = str(len(body or b""))
        lines = [f"{method} {target} HTTP/1.1"]
        for name, value in sent.items():
            value = str(value)
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
                raise ValueError(f"invalid header {name!r}")
            lines.append(f"{name}: {value}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head + body if body else head

    def _connection(self) -> _Connection:
        """This thread's connection: the kept one when the server did not close it, else a new one."""
        conn: _Connection | None = getattr(self._local, "conn", None)
        if conn is not None and conn.idle_and_open():
            return conn
        if conn is not None:
            self._forget(conn)
        try:
            conn = _Connection(self.host, self.port, self.timeout)
        except TimeoutError as exc:
            raise TransportError(f"ConnectTimeout: {exc}", timed_out=True) from exc
        except OSError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        self._local.conn = conn
        with self._lock:
            self._all.append(conn)
        return conn

    def _forget(self, conn: _Connection) -> None:
        conn.close()
        if getattr(self._local, "conn", None) is conn:
            self._local.conn = None
        with self._lock:
            if conn in self._all:
                self._all.remove(conn)

    def _exchange(self, conn: _Connection, method: str, data: bytes) -> Answer:
        conn.used = True
        try:
            conn.sock.sendall(data)
        except TimeoutError as exc:
            self._forget(conn)
            raise TransportError(f"WriteTimeout: {exc}", timed_out=True) from exc
        except OSError as exc:
            self._forget(conn)
            raise _Dead(f"{type(exc).__name__}: {exc}", unsent=True) from exc
        reader = _Reader(conn.sock)
        try:
            answer, keep = _read_answer(reader, method)
        except TimeoutError as exc:
            self._forget(conn)
            raise TransportError(f"ReadTimeout: {exc}", timed_out=True) from exc
        except _Closed as exc:
            self._forget(conn)
            if reader.received:
                raise TransportError(f"IncompleteRead: {exc}") from exc
            raise _Dead(f"RemoteDisconnected: {exc}", unsent=False) from exc
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError) as exc:
            self._forget(conn)
            if reader.received:
                raise TransportError(f"{type(exc).__name__}: {exc}") from exc
            raise _Dead(f"{type(exc).__name__}: {exc}", unsent=False) from exc
        except (OSError, ValueError) as exc:
            self._forget(conn)
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        if not keep or reader.pending():
            self._forget(conn)  # closed by the server, or more than one answer: not reused
        return answer

    def close(self) -> None:
        """Hang up every connection this client opened (call it once no thread uses them)."""
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()


class _Closed(Exception):
    """The server closed the connection before the answer was whole."""


class _Reader:
    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.buf, self.received = sock, bytearray(), False

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise _Closed("connexion fermée par le serveur")
        self.received = True
        self.buf += chunk

    def until(self, marker: bytes, limit: int) -> bytes:
        """The bytes up to `marker` (consumed with it)."""
        start = 0
        while True:
            at = self.buf.find(marker, start)
            if at >= 0:
                out = bytes(self.buf[:at])
                del self.buf[:at + len(marker)]
                return out
            if len(self.buf) > limit:
                raise ValueError("answer head too long")
            start = max(0, len(self.buf) - len(marker) + 1)
            self._fill()

    def exactly(self, size: int) -> bytes:
        while len(self.buf) < size:
            self._fill()
        out = bytes(self.buf[:size])
        del self.buf[:size]
        return out

    def rest(self) -> bytes:
        """Everything until the server closes."""
        while True:
            try:
                self._fill()
            except _Closed:
                out = bytes(self.buf)
                self.buf.clear()
                return out

    def pending(self) -> bool:
        return bool(self.buf)


def _read_answer(reader: _Reader, method: str) -> tuple[Answer, bool]:
    """The answer (after any 1xx) and whether the connection may be kept."""
    while True:
        head = reader.until(b"\r\n\r\n", MAX_HEAD).decode("latin-1")
        status_line, _, header_block = head.partition("\r\n")
        version, _, rest = status_line.partition(" ")
        if not version.startswith("HTTP/"):
            raise ValueError(f"not an HTTP answer: {status_line[:60]!r}")
        status = int(rest[:3])
        pairs = []
        for line in header_block.split("\r\n") if header_block else ():
            name, sep, value = line.partition(":")
            if sep:
                pairs.append((name.strip(), value.strip()))
        if not 100 <= status < 200:
            break
    headers = Headers(pairs)
    connection = (headers.get("Connection") or "").lower()
    keep = "close" not in connection and (version != "HTTP/1.0" or "keep-alive" in connection)
    if method == "HEAD" or status in (204, 304):
        return Answer(status, headers, b""), keep
    if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
        return Answer(status, headers, _chunked(reader)), keep
    length = headers.get("Content-Length")
    if length is not None:
        return Answer(status, headers, reader.exactly(int(length))), keep
    return Answer(status, headers, reader.rest()), False


def _chunked(reader: _Reader) -> bytes:
    parts = []
    while True:
        size = int(reader.until(b"\r\n", MAX_HEAD).split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while reader.until(b"\r\n", MAX_HEAD):  # trailers, up to the empty line
                pass
            return b"".join(parts)
        parts.append(reader.exactly(size))
        reader.exactly(2)
