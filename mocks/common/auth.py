"""API-key authentication: `Authorization: Bearer <key>` → an actor and a dealer.

Each key maps to one actor and one dealer (DESIGN §1). The identity of the current
request is `current()`; `require(*actors)` refuses any other actor with 403.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask import current_app, g, request
from icarflex.mocks.common.errors import ApiError, Forbidden


@dataclass(frozen=True)
class Identity:
    actor: str
    dealer: str
    key: str


def demo_keys(actors_by_suffix: Mapping[str, str], dealers: tuple[str, ...] = ("demo", "demo2")
              ) -> dict[str, dict[str, str]]:
    """`{dealer}-{suffix}-key` for every dealer, plus the shared `demo-admin-key`."""
    keys = {f"{dealer}-{suffix}-key": {"actor": actor, "dealer": dealer}
            for dealer in dealers for suffix, actor in actors_by_suffix.items()}
    keys["demo-admin-key"] = {"actor": "admin", "dealer": "demo"}
    return keys


def authenticate() -> Identity:
    """The caller's identity; 401 UNAUTHENTICATED without a known Bearer key."""
    context = g._get_current_object()  # type: ignore[attr-defined]  # one proxy lookup, not four
    identity = getattr(context, "identity", None)
    if identity is not None:
        return identity
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise ApiError("UNAUTHENTICATED", "En-tête Authorization: Bearer <clé> manquant",
                       fields=["Authorization"])
    entry = current_app.config["KEYS"].get(key)
    if entry is None:
        raise ApiError("UNAUTHENTICATED", "Clé d'API inconnue", fields=["Authorization"])
    context.identity = identity = Identity(entry["actor"], entry["dealer"], key)
    return identity


def require(*actors: str) -> Identity:
    """The caller, who must be one of `actors` (403 FORBIDDEN otherwise)."""
    identity = authenticate()
    if actors and identity.actor not in actors:
        raise Forbidden(f"Opération réservée à {', '.join(actors)} (appelant : {identity.actor})")
    return identity
