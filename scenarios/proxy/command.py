"""`icarflex proxy --target URL`: the auditing proxy on the command line (flags, start, Ctrl-C).

Exit 0 when stopped with Ctrl-C (or SIGTERM), 2 when it cannot start (bad flag, unreadable
profile, keys or mapping, busy port), each with a one-line message.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

LISTEN = "127.0.0.1:8090"


HELP = ("auditer le trafic réel : un proxy devant un vrai OpenFlex (ou ICAR) qui juge chaque appel "
        "au regard du contrat")


def add_arguments(proxy: argparse.ArgumentParser, profile_type: Callable[[str], str] = str) -> None:
    """The `proxy` sub-command's flags (its parser is made by scenarios/cli.py)."""
    proxy.add_argument("--target", required=True, help="le système vers lequel relayer (http:// ou https://)")
    proxy.add_argument("--listen", default=LISTEN, help=f"HÔTE:PORT d'écoute (défaut {LISTEN})")
    proxy.add_argument("--profile", type=profile_type,
                       help="le paramétrage au regard duquel juger (et une section keys: facultative)")
    proxy.add_argument("--mapping", help="chemins et noms JSON de la cible (YAML ; défaut : ceux des fakes)")
    proxy.add_argument("--keys", help="YAML {clé: {actor, dealer}} (défaut : les clés du profil, sinon "
                                      "les clés de démo)")
    proxy.add_argument("--journal", default="icarflex-proxy.jsonl",
                       help="journal en lignes JSON, complété (défaut icarflex-proxy.jsonl)")
    proxy.add_argument("--enforce", action="store_true",
                       help="répondre soi-même (problem+json du contrat) à un appel interdit, "
                            "sans le relayer")
    proxy.add_argument("--cacert",
                       help="autorité de certification de la cible https (ex. celle d'un bac à sable)")
    proxy.add_argument("--timeout", type=float, default=30.0,
                       help="secondes d'attente de la cible (504 au-delà ; défaut 30)")
    proxy.add_argument("--system", choices=["openflex", "icar"], default="openflex",
                       help="ce qu'est la cible (ses entrées de journal le disent)")
    proxy.add_argument("--correlation-header", metavar="EN-TÊTE",
                       help="en-tête ajouté à chaque appel et à sa réponse (ex. X-Icarflex-Call)")
    proxy.add_argument("--threads", type=int, default=8, help="fils de service du proxy")


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
    from icarflex.scenarios.terminal import output

    try:
        if args.timeout <= 0:
            raise ValueError("--timeout doit être > 0")
        host, port = _listen(args.listen)
        options = ProxyOptions(args.target, args.profile, args.mapping, args.keys, args.journal, args.enforce,
                               args.cacert, args.timeout, args.system, args.correlation_header, args.threads)
        server = ProxyServer(options, host, port, show=LiveLog(output(sys.stdout)))
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
