"""The one HTTP transport of icarflex's clients: the ICAR connector and the scenario runner.

urllib3's `PoolManager` (thread-safe, keep-alive connections pooled per host) with its
`Retry`, for `http://` and `https://` targets alike, so the path CI tests is the path an
integrator's remote sandbox takes. `Transport(base_url, timeout=…)` sends one request and
reads its whole answer, or raises `TransportError` when there is no HTTP answer at all.

- Retries (urllib3 `Retry`) only ever resend what cannot be applied twice: a connection
  that could not be made, or an idempotent request whose answer was lost. A POST or PATCH
  whose answer was lost is the caller's to judge (the ICAR connector re-reads the vehicle).
  Status codes are never retried here: a 5xx is an answer, for the caller to retry or not.
- https: the certificate is verified, against the CA bundle given, else the one named by
  `ICARFLEX_CA_BUNDLE`, `REQUESTS_CA_BUNDLE` or `SSL_CERT_FILE` (the variables `requests`
  and OpenSSL honour), else the system's.
- A proxy from the environment (`HTTPS_PROXY`, `NO_PROXY`, …) is used for remote targets,
  never for loopback ones.
"""
from __future__ import annotations

import ipaddress
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit
from urllib.request import getproxies, proxy_bypass

import orjson
import urllib3
from urllib3.exceptions import HTTPError, MaxRetryError, NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3Timeout
from urllib3.util import Retry, Timeout

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
CA_BUNDLE_VARIABLES = ("ICARFLEX_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")
_SAFE_URL = "!#$%&'()*+,/:;=?@[]~"  # what `requests` leaves unquoted in a URL
# urllib3 warns of each retry it makes; what fails in the end is raised (`TransportError`) and
# said by the caller, so the warning would only be noise on a CLI user's terminal.
logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)


class TransportError(Exception):
    """No HTTP answer: refused, reset, timed out, a TLS failure. `timed_out` tells a timeout apart."""

    def __init__(self, detail: str, *, timed_out: bool = False) -> None:
        super().__init__(detail)
        self.timed_out = timed_out


@dataclass
class Answer:
    status: int
    headers: Mapping[str, str]  # case-insensitive (urllib3's HTTPHeaderDict)
    content: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


def is_loopback(url: str) -> bool:
    """A target on this machine (127.0.0.0/8, ::1, localhost): never behind a proxy."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def safe_retries(total: int = 2) -> Retry:
    """Resend only what cannot have been applied: connections not made, idempotent requests
    whose answer was lost (a kept connection the server had closed). No status retried."""
    return Retry(total=total, connect=total, read=min(total, 1), status=0, other=0, redirect=0,
                 allowed_methods=IDEMPOTENT, raise_on_status=False, raise_on_redirect=False,
                 respect_retry_after_header=False, backoff_factor=0.05)


def encode_json(body: Any) -> bytes:
    """JSON bytes (orjson; the standard library for what orjson refuses, e.g. lone surrogates)."""
    try:
        return orjson.dumps(body)
    except TypeError:
        return json.dumps(body).encode()


def query_string(params: Mapping[str, Any] | None) -> str:
    """`?a=1&b=2` of the params that are not None (as `requests` builds it), else ''."""
    pairs = [(k, v) for k, v in (params or {}).items() if v is not None]
    return "?" + urlencode(pairs, doseq=True) if pairs else ""


def ca_bundle(explicit: str | None = None) -> str | None:
    """The CA bundle https certificates are checked against (None: the system's)."""
    if explicit:
        return explicit
    return next((os.environ[name] for name in CA_BUNDLE_VARIABLES if os.environ.get(name)), None)


class Transport:
    """One base URL, its pooled keep-alive connections, its default headers and timeout."""

    def __init__(self, base_url: str, *, timeout: float, headers: Mapping[str, str] | None = None,
                 retries: Retry | None = None, ca_certs: str | None = None, maxsize: int = 16) -> None:
        self.base_url = base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.timeout = timeout
        self.headers = dict(headers or {})
        self.retries = retries if retries is not None else safe_retries()
        options: dict[str, Any] = {"num_pools": 4, "maxsize": maxsize, "block": False,
                                   "retries": self.retries, "timeout": Timeout(connect=timeout, read=timeout)}
        if parts.scheme == "https":
            options.update(cert_reqs="CERT_REQUIRED", ca_certs=ca_bundle(ca_certs))
        proxy = None if is_loopback(self.base_url) else _proxy_for(self.base_url)
        self.pool: urllib3.PoolManager = (urllib3.ProxyManager(proxy, **options) if proxy
                                          else urllib3.PoolManager(**options))
        # One target: its connection pool, taken once (no URL parsed and no pool looked up per
        # request); behind a proxy, the manager builds each request as the proxy wants it.
        self._direct = None if proxy else self.pool.connection_from_url(self.base_url)
        self._prefix = parts.path.rstrip("/")

    def request(self, method: str, path: str, *, body: bytes | None = None,
                headers: Mapping[str, str] | None = None, params: Mapping[str, Any] | None = None) -> Answer:
        """Send one request and read its whole answer (raises `TransportError` when there is none)."""
        target = path + query_string(params)
        if not target.isascii() or any(c <= " " for c in target):
            target = quote(target, safe=_SAFE_URL)
        sent = {**self.headers, **(headers or {})}
        if body is not None and not any(k.lower() == "content-type" for k in sent):
            sent["Content-Type"] = "application/json"
        try:
            if self._direct is not None:
                response = self._direct.urlopen(method, self._prefix + target, body=body, headers=sent,
                                                retries=self.retries, redirect=False, assert_same_host=False,
                                                preload_content=True)
            else:
                response = self.pool.request(method, self.base_url + target, body=body, headers=sent,
                                             redirect=False, preload_content=True)
        except MaxRetryError as exc:
            raise _failure(exc.reason or exc) from exc
        except (HTTPError, OSError) as exc:
            raise _failure(exc) from exc
        return Answer(response.status, response.headers, response.data)

    def close(self) -> None:
        """Hang up every pooled connection."""
        self.pool.clear()


def _failure(reason: BaseException) -> TransportError:
    # urllib3 files a refused connection under its timeouts (NewConnectionError): it is not one.
    timed_out = isinstance(reason, Urllib3Timeout | TimeoutError) \
        and not isinstance(reason, NewConnectionError)
    return TransportError(f"{type(reason).__name__}: {reason}"[:300], timed_out=timed_out)


def _proxy_for(url: str) -> str | None:
    """The environment's proxy for this URL, unless NO_PROXY exempts its host."""
    parts = urlsplit(url)
    proxy = getproxies().get(parts.scheme)
    if proxy and not proxy_bypass(parts.hostname or ""):
        return proxy
    return None
