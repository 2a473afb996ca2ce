"""Make the README's two screenshots, so they stay current: the live dashboard and the report.

    .venv/bin/python docs/screenshots.py [--out docs/img]

Both fakes start in this process, every workflow and its forbidden attempts are replayed,
then Debian's chromium (Playwright, headless, never a downloaded browser) takes
`dashboard.png` (the demo dealer, 1,440 × 900) and `report.png` (the report's first screen
and the start of the particulier workflow, 1,024 px wide).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from icarflex.contracts import load_contract
from icarflex.mocks.common.dashboard import dashboard_url
from icarflex.scenarios import browser
from icarflex.scenarios.fakes import local_fakes
from icarflex.scenarios.report import write_reports
from icarflex.scenarios.runner import Runner, Targets

OUT = Path(__file__).parent / "img"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder of the PNG files (default {OUT})")
    args = parser.parse_args(argv)
    if not browser.available():
        sys.stderr.write(f"screenshots: {browser.CHROMIUM} is missing (apt-get install chromium)\n")
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with local_fakes() as fakes, browser.chromium() as chromium:
        with Runner(Targets(fakes.openflex_url, fakes.icar_url)) as runner:
            result = runner.run([w.id for w in load_contract().workflows])
        page = chromium.new_page(viewport={"width": 1440, "height": 900})
        page.goto(dashboard_url(fakes.openflex) + "&dealer=demo")
        page.locator("article.vehicle").first.wait_for(timeout=15_000)
        page.locator(".entry.refused").first.wait_for(timeout=15_000)
        page.screenshot(path=str(args.out / "dashboard.png"))
        with tempfile.TemporaryDirectory() as folder:
            _, html = write_reports(result, Path(folder))
            page = chromium.new_page(viewport={"width": 1024, "height": 1280})
            page.goto(html.as_uri())
            page.screenshot(path=str(args.out / "report.png"))
    for name in ("dashboard.png", "report.png"):
        sys.stdout.write(f"{args.out / name}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
