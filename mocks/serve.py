"""`icarflex serve`: both fakes, each on its own port on loopback, over one store.

OpenFlex on --openflex-port (8081), ICAR on --icar-port (8082), one store both share
(--db: an SQLite file, or `postgresql://USER@HOST:PORT/DB`; each fake keeps its own
tables), the ICAR connector pointed at the OpenFlex fake unless --openflex-url names
another OpenFlex (with --dms-key, the key the connector uses there for the demo dealer).

`--workers 1` (the default) serves both fakes from this process, each under waitress in a
thread. `--workers N` runs gunicorn's arbiter here and N worker processes, each serving
both fakes with waitress (`icarflex.mocks.common.workers`), over the same store; several
`serve` processes on one store (other ports, one PostgreSQL database) stay correct too.
The apps are built once here first, so a bad --db or --profile is said before anything
listens, and the store is migrated once. Ctrl-C (or SIGTERM) stops everything cleanly.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType, SimpleNamespace
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


def configs(args: argparse.Namespace, openflex_url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The two fakes' app configs; the ICAR connector calls `openflex_url` unless told another."""
    db = store_location(args.db)
    hosts = allowed_hosts(args.host, getattr(args, "allow_host", None) or ())
    openflex: dict[str, Any] = {"DB": db, "ALLOWED_HOSTS": hosts}
    if args.profile:
        openflex["PROFILE"] = args.profile
    icar = {"DB": db, "ALLOWED_HOSTS": hosts, "OPENFLEX_URL": args.openflex_url or openflex_url,
            "DMS_KEY": {"demo": args.dms_key}}
    return openflex, icar


def build_apps(args: argparse.Namespace, openflex_url: str) -> tuple[Any, Any]:
    from icarflex.mocks.icar.app import create_app as create_icar
    from icarflex.mocks.openflex.app import create_app as create_openflex

    openflex_config, icar_config = configs(args, openflex_url)
    openflex = create_openflex(openflex_config)
    return openflex, create_icar(icar_config)


def build_servers(args: argparse.Namespace) -> tuple[LiveServer, LiveServer]:
    """Both fakes on their ports (port 0: a free one); the ICAR one knows where OpenFlex answers."""
    from icarflex.mocks.icar.app import create_app as create_icar
    from icarflex.mocks.openflex.app import create_app as create_openflex

    openflex_config, _ = configs(args, "")
    openflex = LiveServer(create_openflex(openflex_config), args.host, args.openflex_port, args.threads)
    _, icar_config = configs(args, openflex.url)
    icar = LiveServer(create_icar(icar_config), args.host, args.icar_port, args.threads)
    wire(args, openflex, icar)
    return openflex, icar


def wire(args: argparse.Namespace, openflex: Any, icar: Any) -> None:
    """What links two live fakes (objects with `.app` and `.url`): each one's dashboard reads the
    other's overview; one line per request unless --quiet (icarflex.mocks.common.request_log)."""
    introduce(openflex, icar)
    if not getattr(args, "quiet", False):
        write = request_log.writer()
        request_log.install(openflex.app, "openflex", write)
        request_log.install(icar.app, "icar", write)


def cli(args: argparse.Namespace) -> int:
    workers = int(getattr(args, "workers", 1) or 1)
    if workers < 1:
        sys.stderr.write(f"icarflex serve: --workers {workers} : au moins 1\n")
        return 2
    try:
        if workers > 1:
            return _serve_workers(args, workers)
        openflex, icar = build_servers(args)
    except (OSError, ContractError, StoreError) as exc:  # a busy port, a bad --db or --profile
        sys.stderr.write(f"icarflex serve: {exc}\n")
        return 2
    stop = threading.Event()
    # Both stop it, even when started with SIGINT ignored (a background job of a script): Python
    # then keeps it ignored, and `kill -INT` or a Ctrl-C forwarded by a supervisor would do nothing.
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    openflex.start()
    icar.start()
    _announce(args, openflex.url, icar.url, (openflex.app, icar.app))
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


def _serve_workers(args: argparse.Namespace, workers: int) -> int:
    from icarflex.mocks.common.workers import run_workers

    checked = build_apps(args, _url((args.host, args.openflex_port)))  # a bad --db or --profile: now
    for app in checked:  # the workers open their own connections, after the fork
        app.extensions["icarflex"].store.close()

    def build(addresses: Sequence[tuple[str, int]]) -> Sequence[Any]:
        openflex_url, icar_url = _url(addresses[0]), _url(addresses[1])
        openflex, icar = build_apps(args, openflex_url)
        wire(args, SimpleNamespace(app=openflex, url=openflex_url), SimpleNamespace(app=icar, url=icar_url))
        return openflex, icar

    def ready(addresses: Sequence[tuple[str, int]]) -> None:
        _announce(args, _url(addresses[0]), _url(addresses[1]), checked, workers)

    run_workers(build, [f"{args.host}:{args.openflex_port}", f"{args.host}:{args.icar_port}"],
                workers, args.threads, ready)
    return 0


def _url(address: tuple[str, int]) -> str:
    return f"http://{address[0]}:{address[1]}"


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _announce(args: argparse.Namespace, openflex_url: str, icar_url: str, apps: Sequence[Any],
              workers: int = 1) -> None:
    db = store_location(args.db)
    shown = f"PostgreSQL {describe(db)}" if is_postgres_url(db) else f"SQLite {db}"
    target = args.openflex_url or openflex_url
    lines = [f"OpenFlex fake : {openflex_url}  (docs : {openflex_url}/docs, OpenAPI : /openapi.json)",
             f"ICAR fake     : {icar_url}  (docs : {icar_url}/docs, OpenAPI : /openapi.json)",
             f"Tableau de bord : {dashboard_url(SimpleNamespace(app=apps[0], url=openflex_url))}",
             f"Connecteur ICAR → {target} (clé {args.dms_key})",
             f"Base          : {shown}"]
    if workers > 1:
        lines.append(f"Processus     : {workers} workers gunicorn (waitress, {args.threads} fils chacun)")
    for system, app in zip(("OpenFlex", "ICAR"), apps, strict=True):
        keys = app.config["KEYS"]
        lines.append(f"Clés {system} : " + ", ".join(f"{key} ({entry['actor']}, {entry['dealer']})"
                                                    for key, entry in keys.items()))
    lines.append("Ctrl-C pour arrêter.")
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
