"""The `icarflex run | demo | check | verify` commands (argument parsing is scenarios/cli.py's).

Each takes the parsed arguments and returns the exit code: 0 only when every
expectation and contract check holds, 1 when one does not, 2 when the command
could not run (bad arguments, unreadable profile or journal, unreachable target).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from icarflex.contracts import ContractError, load_contract, load_profile
from icarflex.scenarios.checker import UNJUDGED, check_journal, read_journal
from icarflex.scenarios.clients import DEMO_KEYS, TargetUnreachable
from icarflex.scenarios.narrative import Narrator
from icarflex.scenarios.report import write_reports
from icarflex.scenarios.results import RunResult
from icarflex.scenarios.runner import Runner, Targets

ALL = "all"


class UsageError(Exception):
    """A command that cannot run as asked (exit code 2)."""


def _fail(message: str) -> int:
    sys.stderr.write(f"icarflex: {message}\n")
    return 2


def workflow_ids(name: str) -> list[str]:
    ids = [w.id for w in load_contract().workflows]
    if name == ALL:
        return ids
    if name not in ids:
        raise UsageError(f"workflow inconnu {name!r} : {', '.join(ids)} ou {ALL}")
    return [name]


@contextmanager
def targets_for(args: argparse.Namespace) -> Iterator[Targets]:
    """The named targets, or both fakes started in this process (serving the expected profile)."""
    keys = {**DEMO_KEYS, "admin": getattr(args, "admin_key", None) or DEMO_KEYS["admin"]}
    openflex_url, icar_url = getattr(args, "openflex_url", None), getattr(args, "icar_url", None)
    if openflex_url and icar_url:
        yield Targets(openflex_url, icar_url, keys)
        return
    if openflex_url or icar_url:
        raise UsageError("--openflex-url et --icar-url vont ensemble (ou aucun : les fakes en local)")
    from icarflex.scenarios.fakes import local_fakes

    with local_fakes(getattr(args, "profile", None)) as fakes:
        yield Targets(fakes.openflex_url, fakes.icar_url, keys)


def replay(args: argparse.Namespace, workflows: list[str], narrator: Narrator, negative: bool = True,
           reset: bool = True) -> RunResult:
    expected = load_profile(getattr(args, "profile", None))
    with targets_for(args) as targets:
        profile = getattr(args, "profile", None) or "défauts du guide"
        narrator.write(f"icarflex — OpenFlex {targets.openflex_url} ↔ ICAR {targets.icar_url} "
                       f"— graine {args.seed} — profil {profile}")
        with Runner(targets, expected=expected, seed=args.seed, negative=negative, reset=reset,
                    profile_name=getattr(args, "profile", None), listener=narrator) as runner:
            return runner.run(workflows)


def _finish(result: RunResult, narrator: Narrator, report: str | None) -> int:
    where = None
    if report:
        junit, html = write_reports(result, Path(report))
        where = f"{html} (JUnit : {junit})"
    narrator.summary(result, where)
    return 0 if result.ok else 1


def _guarded(command):  # noqa: ANN001, ANN202 - a decorator of commands
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except (UsageError, ContractError, TargetUnreachable, OSError, ValueError) as exc:
            return _fail(str(exc))
    wrapper.__doc__ = command.__doc__
    return wrapper


@_guarded
def run(args: argparse.Namespace) -> int:
    """Replay one workflow (or all) with its negative twins; exit 0 only when everything holds."""
    workflows = workflow_ids(args.workflow)
    narrator = Narrator(sys.stdout, args.quiet)
    result = replay(args, workflows, narrator, negative=not args.no_negative)
    return _finish(result, narrator, args.report)


@_guarded
def demo(args: argparse.Namespace) -> int:
    """Both fakes in this process, every workflow and twin replayed, the report written."""
    narrator = Narrator(sys.stdout)
    demo_args = argparse.Namespace(seed=args.seed, profile=None, openflex_url=None, icar_url=None,
                                   admin_key=DEMO_KEYS["admin"])
    result = replay(demo_args, workflow_ids(ALL), narrator)
    return _finish(result, narrator, args.report)


@_guarded
def verify(args: argparse.Namespace) -> int:
    """The whole contract suite (workflows, twins, drift) against the systems named."""
    if not (args.openflex_url and args.icar_url):
        raise UsageError("verify demande --openflex-url et --icar-url")
    narrator = Narrator(sys.stdout, getattr(args, "quiet", False))
    result = replay(args, workflow_ids(ALL), narrator)
    return _finish(result, narrator, getattr(args, "report", None))


@_guarded
def check(args: argparse.Namespace) -> int:
    """Audit a recorded journal: every violation with rule, field, actor and request."""
    if args.journal == "-":
        entries = read_journal(sys.stdin)
    else:
        with open(args.journal, encoding="utf-8") as handle:
            entries = read_journal(handle)
    findings = check_journal(entries, load_profile(args.profile))
    failing = [f for f in findings if f.failing]
    if args.format == "json":
        json.dump({"entries": len(entries), "violations": len(failing),
                   "findings": [f.to_json() for f in findings]}, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        for finding in findings:
            sys.stdout.write(f"{'✗' if finding.failing else '·'} {finding.describe()}\n")
            if finding.failing and finding.request is not None:
                sys.stdout.write(f"    requête : {json.dumps(finding.request, ensure_ascii=False)}\n")
        unjudged = sum(f.kind == UNJUDGED for f in findings)
        attempts = len(findings) - len(failing) - unjudged
        sys.stdout.write(f"{len(entries)} entrée(s) auditée(s) : {len(failing)} violation(s), "
                         f"{attempts} tentative(s) refusée(s)"
                         + (f", {unjudged} changement(s) de statut non jugé(s)" if unjudged else "") + "\n")
    return 1 if failing else 0
