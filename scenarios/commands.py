"""The `icarflex serve | run | demo | check | verify` commands (the parser is scenarios/cli.py's).

Each takes the parsed arguments and returns the exit status: 0 only when every
expectation and contract check holds, 1 on a contract violation or drift, 2 when the
command could not run or could not reach a verdict (bad arguments, unreadable profile or
journal, a setup mistake named by `preflight`, an upstream error during a step), with a
one-line message on standard error.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from icarflex.contracts import ContractError, load_contract, load_profile
from icarflex.mocks.common.wire import MappingError, WireMapping, load_mapping
from icarflex.scenarios.checker import UNJUDGED, JournalCut, audit_journal, read_journal
from icarflex.scenarios.clients import DEMO_KEYS, TargetUnreachable
from icarflex.scenarios.narrative import Narrator
from icarflex.scenarios.preflight import SetupError, check_ports, check_targets
from icarflex.scenarios.report import write_reports
from icarflex.scenarios.results import RunResult
from icarflex.scenarios.runner import AuditUnavailable, Runner, Targets
from icarflex.scenarios.terminal import output

ALL = "all"


class UsageError(Exception):
    """A command that cannot run as asked (exit code 2)."""


def _fail(message: str) -> int:
    sys.stderr.write(f"icarflex : {message}\n")
    return 2


def workflow_ids(name: str) -> list[str]:
    ids = [w.id for w in load_contract().workflows]
    if name == ALL:
        return ids
    if name not in ids:
        raise UsageError(f"parcours inconnu {name!r} : {', '.join(ids)} ou {ALL}")
    return [name]


def keys_of(args: argparse.Namespace) -> dict[str, str]:
    """The keys of the dealer under test: the demo keys, replaced by each `--key ACTOR=KEY`."""
    keys = {**DEMO_KEYS, "admin": getattr(args, "admin_key", None) or DEMO_KEYS["admin"]}
    for actor, key in getattr(args, "key", None) or []:
        keys["icar" if actor == "icar_user" else actor] = key
    return keys


def wire_mapping(args: argparse.Namespace) -> WireMapping:
    """`--mapping FILE`: the OpenFlex target's paths and JSON names (default: the fakes' own)."""
    try:
        return load_mapping(getattr(args, "mapping", None))
    except MappingError as exc:
        raise UsageError(str(exc)) from exc


@contextmanager
def targets_for(args: argparse.Namespace) -> Iterator[Targets]:
    """The named targets (checked first), or both fakes started in this process."""
    keys = keys_of(args)
    openflex_url, icar_url = getattr(args, "openflex_url", None), getattr(args, "icar_url", None)
    mapping = wire_mapping(args)
    if openflex_url and icar_url:
        check_targets(openflex_url, icar_url, keys, audit=not getattr(args, "no_audit", False),
                      openflex_settings_path=mapping.wire_path("settings"))
        yield Targets(openflex_url, icar_url, keys, mapping=mapping)
        return
    if openflex_url or icar_url:
        raise UsageError("--openflex-url et --icar-url vont ensemble (ou aucun : les fakes en local)")
    from icarflex.scenarios.fakes import local_fakes

    with local_fakes(getattr(args, "profile", None)) as fakes:
        yield Targets(fakes.openflex_url, fakes.icar_url, keys)


def replay(args: argparse.Namespace, workflows: list[str], narrator: Narrator,
           negative: bool = True) -> RunResult:
    expected = load_profile(getattr(args, "profile", None))
    with targets_for(args) as targets:
        profile = getattr(args, "profile", None) or "défauts du guide"
        narrator.write(f"icarflex — OpenFlex {targets.openflex_url} ↔ ICAR {targets.icar_url} "
                       f"— graine {args.seed} — profil {profile}")
        with Runner(targets, expected=expected, seed=args.seed, negative=negative,
                    reset=getattr(args, "reset", False), profile_name=getattr(args, "profile", None),
                    listener=narrator, audit_required=not getattr(args, "no_audit", False)) as runner:
            result = runner.run(workflows)
            if getattr(args, "pact", None):
                from icarflex.scenarios.pact import write_pact

                narrator.write(f"Pact : {write_pact(result, Path(args.pact))}")
            return result


def _finish(result: RunResult, narrator: Narrator, report: str | None) -> int:
    where = None
    if report:
        junit, html = write_reports(result, Path(report))
        where = f"{html} (JUnit : {junit})"
    narrator.summary(result, where)
    return exit_status(result)


def exit_status(result: RunResult) -> int:
    """0 green; 1 a contract check failed or drift; 2 no verdict: an upstream error stopped a step."""
    if result.ok:
        return 0
    if result.contract_failed:
        return 1
    for error in result.system_errors:
        sys.stderr.write(f"icarflex : {error}\n")
    return 2


def _guarded(command):  # noqa: ANN001, ANN202 - a decorator of commands
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except BrokenPipeError:
            raise  # the reader went away: the CLI ends quietly (scenarios/cli.py)
        except TargetUnreachable as exc:
            return _fail(f"cible injoignable pendant le rejeu : {exc}")
        except (UsageError, SetupError, AuditUnavailable, ContractError, OSError, ValueError) as exc:
            return _fail(str(exc))
    wrapper.__doc__ = command.__doc__
    return wrapper


def _narrator(args: argparse.Namespace, stream: TextIO | None = None) -> Narrator:
    return Narrator(output(stream), getattr(args, "quiet", False))


@_guarded
def run(args: argparse.Namespace) -> int:
    """Replay one workflow (or all) with its negative twins; exit 0 only when everything holds."""
    workflows = workflow_ids(args.workflow)
    narrator = _narrator(args)
    result = replay(args, workflows, narrator, negative=not args.no_negative)
    return _finish(result, narrator, args.report)


@_guarded
def verify(args: argparse.Namespace) -> int:
    """`run all` against the systems named, never against local fakes."""
    if not (args.openflex_url and args.icar_url):
        raise UsageError("verify demande --openflex-url et --icar-url (sinon : icarflex run all)")
    narrator = _narrator(args)
    result = replay(args, workflow_ids(ALL), narrator)
    return _finish(result, narrator, args.report)


@_guarded
def serve(args: argparse.Namespace) -> int:
    """Both fakes until Ctrl-C; a busy port is named before anything starts."""
    check_ports(args.host, {"--openflex-port": args.openflex_port, "--icar-port": args.icar_port})
    from icarflex.mocks.serve import cli

    return cli(args)


@_guarded
def check(args: argparse.Namespace) -> int:
    """Audit a recorded journal: every violation with rule, field, actor and request; every entry
    not judged with the reason. Exit 2 when nothing could be judged (empty, unreadable, cut)."""
    try:
        if args.journal == "-":
            entries = read_journal(sys.stdin)
        else:
            with open(args.journal, encoding="utf-8") as handle:
                entries = read_journal(handle)
    except JournalCut as exc:
        raise UsageError(f"journal incomplet {args.journal} : {exc}") from exc
    except ValueError as exc:
        raise UsageError(f"journal illisible {args.journal} : {exc}") from exc
    if not entries:
        raise UsageError(f"journal vide {args.journal} : rien à auditer")
    findings, auditor = audit_journal(entries, load_profile(args.profile))
    failing = [f for f in findings if f.failing]
    unjudged = [f for f in findings if f.kind == UNJUDGED]
    if args.format == "json":
        json.dump({"entries": len(entries), "judged": auditor.judged, "out_of_scope": auditor.out_of_scope,
                   "violations": len(failing), "unjudged": len(unjudged),
                   "findings": [f.to_json() for f in findings]}, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        _check_text(output(), entries, findings, auditor.judged, auditor.out_of_scope)
    if not auditor.judged:
        raise UsageError(f"rien de jugeable dans {args.journal} : {len(entries)} entrée(s), aucune écriture "
                         f"que le contrat encadre n'a pu être jugée ({len(unjudged)} non jugée(s))")
    return 1 if failing else 0


def _check_text(out: TextIO, entries: list, findings: list, judged: int, out_of_scope: int) -> None:
    for finding in findings:
        sign = "✗" if finding.failing else "?" if finding.kind == UNJUDGED else "·"
        out.write(f"{sign} {finding.describe()}\n")
        if finding.failing and finding.request is not None:
            out.write(f"    requête : {json.dumps(finding.request, ensure_ascii=False)}\n")
    failing = sum(f.failing for f in findings)
    unjudged = sum(f.kind == UNJUDGED for f in findings)
    attempts = len(findings) - failing - unjudged
    out.write(f"{len(entries)} entrée(s) auditée(s) : {judged} jugée(s), {out_of_scope} sans objet "
              f"(lectures, écritures qu'aucune règle n'encadre), {unjudged} non jugée(s) ; "
              f"{failing} violation(s), {attempts} tentative(s) refusée(s)\n")
    out.flush()
