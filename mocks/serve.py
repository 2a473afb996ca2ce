"""`icarflex serve`: both fakes in one process, each under its own waitress server on loopback.

OpenFlex on --openflex-port (8081), ICAR on --icar-port (8082), one SQLite file both
share (--db; each fake keeps its own tables), the ICAR connector pointed at the
OpenFlex fake unless --openflex-url names another OpenFlex (with --dms-key, the key the
connector uses there for the demo dealer). Ctrl-C (or SIGTERM) stops both cleanly.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from icarflex.contracts import ContractError
from icarflex.mocks.common import request_log
from icarflex.mocks.common.config import default_db_path
from icarflex.mocks.common.dashboard import dashboard_url, introduce
from icarflex.mocks.common.hosts import allowed_hosts
from icarflex.mocks.common.server import LiveServer
from icarflex.mocks.common.store import StoreError, is_postgres_url
from icarflex.mocks.common.store.postgres import describe


def store_location(db: str | None) -> str:
    """What `--db` names: a PostgreSQL URL as given, a path (default: the user's data folder)."""
    if is_postgres_url(db):
        return str(db)
    return str(Path(db) if db else default_db_path("icarflex"))


def build_servers(args: argparse.Namespace) -> tuple[LiveServer, LiveServer]:
    """Both fakes on their ports (port 0: a free one); the ICAR one knows where OpenFlex answers."""
    from icarflex.mocks.icar.app import create_app as create_icar
    from icarflex.mocks.openflex.app import create_app as create_openflex

    db = store_location(args.db)
    hosts = allowed_hosts(args.host, getattr(args, "allow_host", None) or ())
    openflex_config: dict[str, Any] = {"DB": db, "ALLOWED_HOSTS": hosts}
    if args.profile:
        openflex_config["PROFILE"] = args.profile
    openflex = LiveServer(create_openflex(openflex_config), args.host, args.openflex_port, args.threads)
    icar_config = {"DB": db, "ALLOWED_HOSTS": hosts, "OPENFLEX_URL": args.openflex_url or openflex.url,
                   "DMS_KEY": {"demo": args.dms_key}}
    icar = LiveServer(create_icar(icar_config), args.host, args.icar_port, args.threads)
    introduce(openflex, icar)  # each fake's dashboard reads the other's overview
    return openflex, icar


def cli(args: argparse.Namespace) -> int:
    try:
        openflex, icar = build_servers(args)
    except (OSError, ContractError, StoreError) as exc:  # a busy port, a bad --db or --profile
        sys.stderr.write(f"icarflex serve: {exc}\n")
        return 2
    if not getattr(args, "quiet", False):  # one line per request (icarflex.mocks.common.request_log)
        write = request_log.writer()
        request_log.install(openflex.app, "openflex", write)
        request_log.install(icar.app, "icar", write)
    stop = threading.Event()
    # Both stop it, even when started with SIGINT ignored (a background job of a script): Python
    # then keeps it ignored, and `kill -INT` or a Ctrl-C forwarded by a supervisor would do nothing.
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    openflex.start()
    icar.start()
    _announce(args, openflex, icar)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        print("\nArrêt des deux fakes…", flush=True)
    finally:
        icar.stop()
        openflex.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _announce(args: argparse.Namespace, openflex: LiveServer, icar: LiveServer) -> None:
    db = store_location(args.db)
    shown = f"PostgreSQL {describe(db)}" if is_postgres_url(db) else f"SQLite {db}"
    target = args.openflex_url or openflex.url
    lines = [f"OpenFlex fake : {openflex.url}  (docs : {openflex.url}/docs, OpenAPI : /openapi.json)",
             f"ICAR fake     : {icar.url}  (docs : {icar.url}/docs, OpenAPI : /openapi.json)",
             f"Tableau de bord : {dashboard_url(openflex)}",
             f"Connecteur ICAR → {target} (clé {args.dms_key})",
             f"Base          : {shown}"]
    for system, server in (("OpenFlex", openflex), ("ICAR", icar)):
        keys = server.app.config["KEYS"]
        lines.append(f"Clés {system} : " + ", ".join(f"{key} ({entry['actor']}, {entry['dealer']})"
                                                    for key, entry in keys.items()))
    lines.append("Ctrl-C pour arrêter.")
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
