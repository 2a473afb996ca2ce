"""`icarflex demo`: a demo a presenter can narrate to a car dealer.

Both fakes start in this process (OpenFlex on --openflex-port, ICAR on --icar-port, a
free port when one is taken), each on a fresh temporary store, introduced to each other
so that the live dashboard shows both systems; its full URL (with the demo admin key)
and the API docs are printed, and `--open` opens the dashboard where there is a browser.
Then every workflow and its forbidden attempts are played, one short French line per
step from the contract's labels (`Presenter`), with a pause of --pace seconds after each
(or, with --step, until Enter). With --profile, OpenFlex serves that dealer parameterization
and the replay expects it (a workflow whose premise it breaks is said not applicable). The
report is written, and the fakes stay up, so the dashboard and the docs can still be shown,
until Ctrl-C (--exit: stop at once).
"""
from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from icarflex.contracts import load_contract, load_profile
from icarflex.mocks.common.dashboard import dashboard_url
from icarflex.scenarios.clients import DEMO_KEYS
from icarflex.scenarios.commands import _guarded, exit_status, workflow_ids
from icarflex.scenarios.fakes import LocalFakes, local_fakes
from icarflex.scenarios.narrative import Presenter
from icarflex.scenarios.report import write_reports
from icarflex.scenarios.runner import Runner, Targets
from icarflex.scenarios.terminal import output

HOST = "127.0.0.1"


@_guarded
def demo(args: argparse.Namespace) -> int:
    """Serve both fakes, announce the dashboard, play every workflow at the presenter's pace."""
    out = output(None)
    ports = (_free_or_any(args.openflex_port), _free_or_any(args.icar_port))
    profile = getattr(args, "profile", None)
    with local_fakes(profile, ports=ports) as fakes:
        _announce(out, fakes, profile)
        if args.open:
            _open(out, dashboard_url(fakes.openflex))
        pause = pacer(args.pace, args.step, sys.stdin, out)
        if args.pace or args.step:
            out.write("\nLe tableau de bord est prêt ; la démonstration commence.\n")
            pause()
        presenter = Presenter(out, pause)
        keys = {**DEMO_KEYS}
        with Runner(Targets(fakes.openflex_url, fakes.icar_url, keys), expected=load_profile(profile),
                    seed=args.seed, negative=True, listener=presenter, profile_name=profile) as runner:
            result = runner.run(workflow_ids("all"))
        junit, html = write_reports(result, Path(args.report))
        presenter.summary(result, f"{html} (JUnit : {junit})")
        if not args.exit:
            _stay_up(out, fakes)
    return exit_status(result)


def pacer(pace: float, step: bool, stdin: TextIO, out: TextIO) -> Callable[[], None]:
    """What happens after a narrated step: nothing, a pause of `pace` seconds, or Enter."""
    if step:
        def wait_for_enter() -> None:
            out.write("      (Entrée pour continuer) ")
            out.flush()
            if not stdin.readline():  # end of input: go on without waiting
                out.write("\n")
        return wait_for_enter
    if pace > 0:
        return lambda: time.sleep(pace)
    return lambda: None


def _free_or_any(port: int) -> int:
    """`port` when nothing listens on it, else 0 (a free one: the URL printed says which)."""
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return 0
    return port


def _announce(out: TextIO, fakes: LocalFakes, profile: str | None) -> None:
    contract = load_contract()
    names = ", ".join(w.title for w in contract.workflows)
    out.write(f"Tableau de bord : {dashboard_url(fakes.openflex)}\n"
              f"OpenFlex fake   : {fakes.openflex_url}  (docs : {fakes.openflex_url}/docs)\n"
              f"ICAR fake       : {fakes.icar_url}  (docs : {fakes.icar_url}/docs)\n"
              f"Paramétrage     : {Path(profile).stem if profile else 'défauts du guide'}\n"
              f"Parcours joués  : {names}, et leurs tentatives interdites\n")
    out.flush()


def _open(out: TextIO, url: str) -> None:
    try:
        webbrowser.get()
    except webbrowser.Error:
        out.write("Pas de navigateur sur cette machine : ouvrez l'adresse du tableau de bord ci-dessus.\n")
        return
    threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()


def _stay_up(out: TextIO, fakes: LocalFakes) -> None:
    out.write(f"\nLes fakes restent en ligne : {dashboard_url(fakes.openflex)} — Ctrl-C pour arrêter.\n")
    out.flush()
    try:
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        out.write("\nArrêt des deux fakes…\n")
