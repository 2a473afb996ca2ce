"""`icarflex proxy --target URL`: the auditing proxy on the command line (flags, start, Ctrl-C).

Exit 0 when stopped with Ctrl-C (or SIGTERM), 2 when it cannot start (bad flag, unreadable
profile, keys or mapping, busy port), each with a one-line message.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType
from typing import Any

LISTEN = "127.0.0.1:8090"


def add_parser(sub: Any) -> None:
    """The `proxy` sub-command's flags (called by scenarios/cli.py)."""
    proxy = sub.add_parser("proxy", help="audit live traffic: a proxy in front of a real OpenFlex (or ICAR)")
    proxy.add_argument("--target", required=True, help="the system to forward to (http:// or https://)")
    proxy.add_argument("--listen", default=LISTEN, help=f"HOST:PORT to listen on (default {LISTEN})")
    proxy.add_argument("--profile", help="the parameterization to judge by (and an optional keys: section)")
    proxy.add_argument("--mapping", help="the target's paths and JSON names (YAML; default: the fakes')")
    proxy.add_argument("--keys",
                       help="YAML {key: {actor, dealer}} (default: the profile's keys, else the demo keys)")
    proxy.add_argument("--journal", default="icarflex-proxy.jsonl", help="JSON-lines journal (appended)")
    proxy.add_argument("--enforce", action="store_true",
                       help="answer a forbidden call with the contract's problem+json, never forwarding it")
    proxy.add_argument("--cacert", help="CA bundle to verify an https target (e.g. a sandbox's own CA)")
    proxy.add_argument("--timeout", type=float, default=30.0,
                       help="seconds to wait for the target (504 after)")
    proxy.add_argument("--system", choices=["openflex", "icar"], default="openflex",
                       help="what the target is (its journal entries say so)")
    proxy.add_argument("--correlation-header",
                       help="header added to each call and its answer (e.g. X-Icarflex-Call)")
    proxy.add_argument("--threads", type=int, default=8)


def _listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"--listen {value!r} : HOST:PORT attendu")
    return host or "127.0.0.1", int(port)


def cli(args: argparse.Namespace) -> int:
    from icarflex.contracts import ContractError
    from icarflex.scenarios.proxy.keys import KeysError
    from icarflex.scenarios.proxy.live import LiveLog
    from icarflex.scenarios.proxy.mapping import MappingError
    from icarflex.scenarios.proxy.server import ProxyOptions, ProxyServer

    try:
        if args.timeout <= 0:
            raise ValueError("--timeout doit être > 0")
        host, port = _listen(args.listen)
        options = ProxyOptions(args.target, args.profile, args.mapping, args.keys, args.journal, args.enforce,
                               args.cacert, args.timeout, args.system, args.correlation_header, args.threads)
        server = ProxyServer(options, host, port, show=LiveLog(sys.stdout))
    except (OSError, ValueError, ContractError, KeysError, MappingError) as exc:
        sys.stderr.write(f"icarflex proxy: {str(exc).splitlines()[0]}\n")
        return 2
    stop = threading.Event()
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    server.start()
    mode = "blocage (--enforce)" if args.enforce else "audit seul"
    sys.stdout.write(f"icarflex proxy {server.url} → {args.target} ({mode}) ; journal {args.journal}\n"
                     "Ctrl-C pour arrêter.\n")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        sys.stdout.write("\nArrêt du proxy…\n")
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
