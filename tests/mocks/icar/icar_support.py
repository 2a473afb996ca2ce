"""Small helpers shared by the ICAR tests (importable: pytest puts this folder on sys.path)."""
from __future__ import annotations

import requests


def problem(reply: requests.Response) -> tuple[int, str, list[str]]:
    """(status, code, fields) of a problem+json answer."""
    body = reply.json()
    return reply.status_code, body.get("code"), body.get("fields")
