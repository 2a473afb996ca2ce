"""Forwarding to the target over the one HTTP transport (urllib3's pool): no retry, no redirect.

The request goes out as it came in (method, path, query, body, headers) but for the
hop-by-hop headers (RFC 9110 §7.6.1), which belong to each connection, and `Host`,
which names the target. urllib3 would add a `User-Agent` and an `Accept-Encoding` the
client did not send: both are skipped. The answer is read as a stream, its bytes as sent
(no decoding), so a large answer never sits whole in memory. A target that does not
answer is `TargetUnreachable` (502), one slower than the timeout `TargetTimeout` (504).
The pool is `icarflex.mocks.common.transport`'s (its CA bundle, its environment proxy for a
remote target); only the streaming of an answer is done here.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import orjson
import urllib3
from icarflex.mocks.common.errors import ApiError
from icarflex.mocks.common.transport import Transport, TransportError
from urllib3.exceptions import HTTPError, ReadTimeoutError
from urllib3.util import SKIP_HEADER

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
                        "trailer", "transfer-encoding", "upgrade", "proxy-connection"})
CHUNK = 64 * 1024


class TargetUnreachable(ApiError):
    def __init__(self, target: str, detail: str) -> None:
        super().__init__("TARGET_UNREACHABLE", f"Cible {target} injoignable : {detail}", status=502,
                         fields=["target"], extra={"target": target})
        self.title = "Cible injoignable"


class TargetTimeout(ApiError):
    def __init__(self, target: str, timeout: float) -> None:
        super().__init__("TARGET_TIMEOUT", f"Cible {target} sans réponse après {timeout:g} s "
                         "(--timeout du proxy)", status=504, fields=["target"],
                         extra={"target": target, "timeout_s": timeout})
        self.title = "Cible trop lente"


def end_to_end(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The headers that cross a proxy: all but the hop-by-hop ones and those `Connection` names."""
    pairs = list(headers)
    named = {token.strip().lower() for name, value in pairs if name.lower() == "connection"
             for token in value.split(",")}
    return [(n, v) for n, v in pairs if n.lower() not in HOP_BY_HOP and n.lower() not in named]


class Upstream:
    """The target's base URL and one pool of keep-alive connections to it."""

    def __init__(self, target: str, timeout: float, cacert: str | None = None, connections: int = 16) -> None:
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"--target {target!r} : URL http:// ou https:// attendue")
        self.target = target.rstrip("/")   # a path in it (a sandbox under /openflex) is kept
        self.host = parts.netloc
        self.timeout = timeout
        self.transport = Transport(self.target, timeout=timeout, ca_certs=cacert, maxsize=connections)

    def open(self, method: str, path_and_query: str, headers: Iterable[tuple[str, str]],
             body: bytes | BinaryIO | None) -> urllib3.BaseHTTPResponse:
        """Send the call; the answer's head read, its body left to stream."""
        out = {n: v for n, v in end_to_end(headers) if n.lower() != "host"}
        out["Host"] = self.host
        lowered = {n.lower() for n in out}
        for skipped in ("User-Agent", "Accept-Encoding"):
            if skipped.lower() not in lowered:
                out[skipped] = SKIP_HEADER
        try:  # never retried: the client's call is sent once, as the client sent it
            return self.transport.pool.urlopen(method, self.target + path_and_query, body=body, headers=out,
                                               retries=False, redirect=False, preload_content=False,
                                               decode_content=False)
        except ReadTimeoutError as exc:  # connected, but no answer in time: the target is slow
            raise TargetTimeout(self.target, self.timeout) from exc
        except (HTTPError, OSError) as exc:  # refused, no route, TLS refused, connect timeout
            raise TargetUnreachable(self.target, _reason(exc)) from exc

    def read_json(self, path: str, headers: Mapping[str, str]) -> Any:
        """A small JSON read of our own (a vehicle before a PATCH); None when it cannot be had."""
        try:
            answer = self.transport.request("GET", path, headers=headers)
        except TransportError:
            return None
        if answer.status != 200 or not answer.content:
            return None
        try:
            return orjson.loads(answer.content)
        except orjson.JSONDecodeError:
            return None

    def close(self) -> None:
        self.transport.close()


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason or exc)
