"""Helpers of the proxy tests: journals read over HTTP and from the proxy's file."""
from __future__ import annotations

from typing import Any

import requests
from icarflex.scenarios.checker import read_journal
from icarflex.scenarios.proxy.server import ProxyServer

ADMIN = {"Authorization": "Bearer demo-admin-key"}
NEW_VEHICLE = {"vin": "VF1RFB00X12345678", "registration": "AB-123-CD", "destination": "PARTICULIER",
               "purchase_source": "ACHAT_DIRECT", "origin": "PARTICULIER"}


def key(actor: str) -> dict[str, str]:
    return {"Authorization": f"Bearer demo-{actor}-key"}


def proxy_journal(proxy: ProxyServer) -> list[dict[str, Any]]:
    with open(proxy.options.journal, encoding="utf-8") as handle:
        return read_journal(handle)


def target_journal(url: str) -> list[dict[str, Any]]:
    """The target's own journal (`/__admin/journal`), every entry."""
    reply = requests.get(f"{url}/__admin/journal", params={"limit": 100_000}, headers=ADMIN, timeout=30)
    reply.raise_for_status()
    return reply.json()["items"]
