"""The Host check: a fake answers only requests that name it, so a web page cannot reach it.

A page on any site can make the browser call `http://127.0.0.1:8081` through a name it
controls (DNS rebinding) and use the published demo keys. Browsers always send the name they
resolved as `Host`, so the fakes answer only `Host` values naming loopback (`localhost`,
`127.0.0.1`, `[::1]`, any port) and the names of `ALLOWED_HOSTS` (`serve --allow-host NAME`);
any other gets 421 problem+json naming the header. `ALLOWED_HOSTS = ["*"]` turns the check
off (`serve` does so when bound to an address other than loopback and given no name).
A request without `Host` (HTTP/1.0, no browser) is answered.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from flask import Flask, current_app, request
from icarflex.mocks.common.errors import ApiError

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
ANY_HOST = "*"


def hostname(host: str) -> str | None:
    """The name of a `Host` value, lower-case, without port nor final dot; None if malformed."""
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        if end < 0:
            return None
        name, rest = host[:end + 1], host[end + 1:]
    elif host.count(":") > 1:
        return None  # an IPv6 address is bracketed in Host (RFC 3986 §3.2.2)
    else:
        name, colon, port = host.partition(":")
        rest = colon + port
    if rest and not (rest[0] == ":" and (rest[1:] == "" or rest[1:].isdigit())):
        return None
    return name.rstrip(".") or None


def is_loopback(host: str) -> bool:
    """True when `host` (an address or `localhost`) is bound to loopback only."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(bound_to: str, extra: Iterable[str] = ()) -> list[str]:
    """`ALLOWED_HOSTS` for a server bound to `bound_to`: loopback and `extra` when either is
    loopback-only or names are given, any host otherwise (a sandbox on a network address)."""
    names = [hostname(name) or name for name in extra]
    if not names and not is_loopback(bound_to):
        return [ANY_HOST]
    return [*names, *([] if is_loopback(bound_to) else [hostname(bound_to) or bound_to])]


class MisdirectedRequest(ApiError):
    def __init__(self, host: str) -> None:
        super().__init__("MISDIRECTED_REQUEST", f"Host « {host} » : ce fake ne répond qu'aux noms "
                         "de la boucle locale (localhost, 127.0.0.1, [::1]) et à ceux de "
                         "serve --allow-host", status=421, fields=["Host"])
        self.title = "Hôte non autorisé"


def check_host() -> None:
    host = request.environ.get("HTTP_HOST")
    if host is None:
        return
    allowed = current_app.config.get("ALLOWED_HOSTS") or ()
    if ANY_HOST in allowed:
        return
    name = hostname(host)
    if name is None or (name not in LOOPBACK_NAMES and name not in allowed):
        raise MisdirectedRequest(host)


def install(app: Flask) -> None:
    """The check runs before anything else of a request (faults, auth, routing)."""
    app.before_request_funcs.setdefault(None, []).insert(0, check_host)
