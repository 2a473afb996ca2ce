"""`icarflex demo` as a presenter runs it, in a real process: the dashboard URL printed and
answering, one French line per step from the contract's labels, the fakes kept up until
Ctrl-C, --step waiting for Enter, --pace pausing."""
from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from icarflex.contracts import load_contract
from icarflex.scenarios.demo import pacer

CONTRACT = load_contract()
DASHBOARD = re.compile(r"Tableau de bord : (http://127\.0\.0\.1:\d+)/__admin/dashboard\?key=(\S+)")


def start_demo(tmp_path: Path, *flags: str) -> tuple[subprocess.Popen, queue.Queue]:
    proc = subprocess.Popen([sys.executable, "-m", "icarflex.scenarios.cli", "demo", "--openflex-port", "0",
                             "--icar-port", "0", "--report", str(tmp_path / "report"), *flags],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines: queue.Queue = queue.Queue()

    def read() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            lines.put(line)
        lines.put(None)
    threading.Thread(target=read, daemon=True).start()
    return proc, lines


def read_until(lines: queue.Queue, pattern: str, timeout: float = 120) -> tuple[str, list[str]]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        assert line is not None, "demo ended early:\n" + "".join(seen)
        seen.append(line)
        if re.search(pattern, line):
            return line, seen
    raise AssertionError(f"{pattern!r} never printed:\n" + "".join(seen))


def test_demo_narrates_every_step_then_keeps_the_fakes_up_until_ctrl_c(tmp_path: Path) -> None:
    proc, lines = start_demo(tmp_path)
    try:
        first, _ = read_until(lines, "Tableau de bord")
        base, key = DASHBOARD.search(first).groups()
        _, told = read_until(lines, "Les fakes restent en ligne")
        text = "".join(told)
        particulier = CONTRACT.workflow["particulier"]
        for number, step in enumerate(particulier.steps, 1):
            assert f"{number}/{len(particulier.steps)} {CONTRACT.labels.step(step.id)} — " \
                   f"{CONTRACT.labels.actor(step.actor)}" in text
        assert "jumeau" not in text and (tmp_path / "report" / "icarflex-report.html").exists()
        state = requests.get(f"{base}/__admin/dashboard/state", headers={"Authorization": f"Bearer {key}"},
                             timeout=10).json()
        assert state["vehicles"] and all(side["ok"] for side in state["systems"].values())
        assert requests.get(f"{base}/docs", timeout=10).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0


def test_demo_step_waits_for_enter(tmp_path: Path) -> None:
    proc, lines = start_demo(tmp_path, "--step", "--exit")
    try:
        read_until(lines, "la démonstration commence", timeout=60)
        time.sleep(1.0)
        assert lines.empty(), "a step was played before Enter"
        proc.stdin.write("\n")  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]
        read_until(lines, r"1/\d+ ", timeout=30)
    finally:
        proc.kill()
        proc.wait(10)


def test_pace_pauses_after_each_step() -> None:
    pause = pacer(0.2, False, sys.stdin, sys.stdout)
    started = time.monotonic()
    pause()
    assert time.monotonic() - started >= 0.2


def test_demo_open_opens_the_dashboard_in_the_browser_there_is(tmp_path: Path) -> None:
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"  # stands for the user's browser (webbrowser honours $BROWSER)
    browser.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    browser.chmod(0o755)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "BROWSER": str(browser)}
    done = subprocess.run([sys.executable, "-m", "icarflex.scenarios.cli", "demo", "--open", "--exit",
                           "--openflex-port", "0", "--icar-port", "0", "--report", str(tmp_path / "r")],
                          capture_output=True, text=True, env=env, timeout=240)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    url = DASHBOARD.search(done.stdout).group(0).split(" : ")[1]
    deadline = time.monotonic() + 10
    while not opened.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert opened.read_text().strip() == url


def test_demo_profile_serves_and_replays_that_dealer_s_parameterization(tmp_path: Path) -> None:
    """Under exit-in-openflex (« Sortie des véhicules en statut livraison » at NON), the demo
    plays the exit made in OpenFlex, and the workflows exiting through ICAR are not applicable."""
    done = subprocess.run([sys.executable, "-m", "icarflex.scenarios.cli", "demo", "--exit", "--profile",
                           "exit-in-openflex", "--openflex-port", "0", "--icar-port", "0",
                           "--report", str(tmp_path / "r")],
                          capture_output=True, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                          timeout=240)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    assert "Paramétrage     : exit-in-openflex" in done.stdout
    assert "CONFORME" in done.stdout and "2/2 parcours" in done.stdout, done.stdout[-1500:]
