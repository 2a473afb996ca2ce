"""Debian's chromium driven by Playwright (never a downloaded browser), for the browser tests
and the screenshot script (docs/make_screenshots.py). Playwright is a test extra: imported here
on use only."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run")


def available() -> bool:
    return CHROMIUM.exists()


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Debian chromium (a Playwright `Browser`), closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            browser.close()
