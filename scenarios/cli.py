"""The `icarflex` command line: argument parsing only; each command lives with its subject.

guide and diff read the contract (`contracts/`), serve starts both fakes (`mocks/`),
run, demo, check and verify replay and audit (`scenarios/`). Flags are those of
DESIGN.md §3.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

WORKFLOW_CHOICES_HELP = "particulier, marchand, achat_direct, casse, or all"

# command -> "module:function"; imported on use so `icarflex guide` stays fast.
COMMANDS = {
    "guide": "icarflex.contracts.guide:cli",
    "diff": "icarflex.contracts.diff:cli",
    "serve": "icarflex.mocks.serve:cli",
    "run": "icarflex.scenarios.commands:run",
    "demo": "icarflex.scenarios.commands:demo",
    "check": "icarflex.scenarios.commands:check",
    "verify": "icarflex.scenarios.commands:verify",
}


def _targets(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--openflex-url", help="OpenFlex base URL (default: start the fakes in-process)")
    parser.add_argument("--icar-url", help="ICAR base URL (default: start the fakes in-process)")
    parser.add_argument("--profile", help="profile YAML: the parameterization the run expects")
    parser.add_argument("--admin-key", default="demo-admin-key", help="admin key of the targets")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="icarflex", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    guide = sub.add_parser("guide", help="regenerate the French interface guide from the contract")
    guide.add_argument("--profile", help="profile YAML laid over the guide's defaults")
    guide.add_argument("--format", choices=["md", "html"], default="md")
    guide.add_argument("--output", "-o", help="write to this file instead of standard output")

    diff = sub.add_parser("diff", help="compare two dealers' parameterizations; exit 1 when breaking")
    diff.add_argument("profile_a")
    diff.add_argument("profile_b")
    diff.add_argument("--format", choices=["text", "json"], default="text")

    serve = sub.add_parser("serve", help="serve both fakes (OpenFlex 8081, ICAR 8082)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--openflex-port", type=int, default=8081)
    serve.add_argument("--icar-port", type=int, default=8082)
    serve.add_argument("--db", help="SQLite file (default: under the user's data folder) "
                       "or postgresql://USER@HOST:PORT/DB")
    serve.add_argument("--profile", help="profile YAML applied to every dealer")
    serve.add_argument("--openflex-url", help="point the ICAR connector at another OpenFlex")
    serve.add_argument("--dms-key", default="demo-dms-key", help="key the ICAR connector uses on OpenFlex")
    serve.add_argument("--threads", type=int, default=8, help="server threads per fake")
    serve.add_argument("--workers", type=int, default=1,
                       help="worker processes (gunicorn), each serving both fakes over the one store")
    serve.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                       help="a Host name the fakes answer besides loopback's (repeatable)")

    run = sub.add_parser("run", help="replay a workflow (or all) and check the contract")
    run.add_argument("workflow", help=WORKFLOW_CHOICES_HELP)
    _targets(run)
    run.add_argument("--report", help="write JUnit XML and an HTML report into this folder")
    run.add_argument("--seed", type=int, default=2025, help="seed of the generated data")
    run.add_argument("--no-negative", action="store_true", help="skip the negative twins")
    run.add_argument("--quiet", "-q", action="store_true", help="only the summary")

    demo = sub.add_parser("demo", help="serve both fakes, replay every workflow, write the report")
    demo.add_argument("--report", default="icarflex-report", help="report folder")
    demo.add_argument("--seed", type=int, default=2025)

    check = sub.add_parser("check", help="audit a recorded journal (JSON lines) against the contract")
    check.add_argument("journal", help="journal file (JSON lines), or - for standard input")
    check.add_argument("--profile", help="the parameterization the traffic ran under")
    check.add_argument("--format", choices=["text", "json"], default="text")

    verify = sub.add_parser("verify", help="run the contract suite against a system you name")
    _targets(verify)
    verify.add_argument("--seed", type=int, default=2025)
    verify.add_argument("--report", help="write JUnit XML and an HTML report into this folder")
    verify.add_argument("--quiet", "-q", action="store_true", help="only the summary per rule")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    module_name, function = COMMANDS[args.command].split(":")
    command = getattr(importlib.import_module(module_name), function)
    try:
        return int(command(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
