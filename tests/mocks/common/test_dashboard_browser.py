"""The dashboard in Debian's chromium (Playwright, headless): a write shows on both sides within
1 s, and a refused write appears in the log, red, with its rule and the guide's sentence."""
from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from icarflex.contracts import load_contract
from icarflex.scenarios import browser
from icarflex.scenarios.fakes import LocalFakes, local_fakes

from tests.mocks.common.dashboard_support import DMS, create_vehicle, match, physical_entry

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not browser.available(), reason="Debian's chromium is not installed")]
CONTRACT = load_contract()

# Keeps in window.seenBoth a promise of the time (Date.now()) the card first showed both statuses.
SEEN_BOTH = """([vehicle, openflex, icar]) => { window.seenBoth = new Promise(resolve => {
  const check = () => {
    const card = document.querySelector(`article.vehicle[data-vehicle="${vehicle}"]`);
    if (card && card.querySelector(".openflex-status").dataset.status === openflex
        && card.querySelector(".icar-status").dataset.status === icar) {
      observer.disconnect(); resolve(Date.now()); return true;
    }
    return false;
  };
  const observer = new MutationObserver(check);
  observer.observe(document.body, {subtree: true, childList: true, attributes: true});
  check();
  setTimeout(() => { observer.disconnect(); resolve(null); }, 10000);
}); }"""


@pytest.fixture(scope="module")
def fakes() -> Iterator[LocalFakes]:
    with local_fakes() as started:
        yield started


@pytest.fixture(scope="module")
def page(fakes: LocalFakes) -> Iterator[Any]:
    with browser.chromium() as chromium:
        page = chromium.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{fakes.openflex_url}/__admin/dashboard?key=demo-admin-key")
        page.wait_for_selector("#live.on", timeout=10_000)
        yield page
        assert errors == []


def test_a_vehicles_two_new_statuses_show_within_one_second_of_the_write(fakes: LocalFakes,
                                                                         page: Any) -> None:
    case = create_vehicle(fakes.openflex_url, 10)
    record = match(fakes.icar_url, case["vehicle"]["vin"])
    page.evaluate(SEEN_BOTH, [case["id"], "PRE_RENTREE", "ARRIVAGE"])
    assert page.evaluate("() => window.seenBoth") is not None  # the page shows it before the write
    page.evaluate(SEEN_BOTH, [case["id"], "ENTREE_PHYSIQUE", "STOCK"])
    reply = physical_entry(fakes.icar_url, record["id"], case["entry_mileage"])
    written = time.time() * 1000
    assert reply.status_code == 200, reply.text
    shown_at = page.evaluate("() => window.seenBoth")  # waits for the promise (null after 10 s)
    assert shown_at is not None, "never shown"
    print(f"dashboard: both statuses shown {shown_at - written:.0f} ms after the write")
    assert shown_at - written < 1000, f"shown {shown_at - written:.0f} ms after the write"
    card = page.locator(f'article.vehicle[data-vehicle="{case["id"]}"]')
    assert card.locator(".openflex-status").inner_text() == CONTRACT.statuses["ENTREE_PHYSIQUE"].label
    assert card.locator(".icar-status").inner_text() == CONTRACT.icar_statuses["STOCK"].label
    assert card.locator(".lifeline li.current").get_attribute("data-status") == "ENTREE_PHYSIQUE"
    assert "concordent" in card.locator(".mapping").inner_text()


def test_a_refused_write_appears_in_the_log_with_its_rule(fakes: LocalFakes, page: Any) -> None:
    case = create_vehicle(fakes.openflex_url, 11)
    reply = requests.patch(f"{fakes.openflex_url}/api/v1/vehicles/{case['id']}", headers=DMS, timeout=10,
                           json={"vin": case["other"]["vin"]})
    assert reply.status_code == 403
    entry = page.locator(f'.entry.refused[data-vehicle="{case["id"]}"][data-rules~="R6"]')
    entry.wait_for(timeout=5_000)
    text = " ".join(entry.inner_text().split())
    rule = CONTRACT.rules["R6"]
    assert "R6" in text and rule.title in text and " ".join(rule.guide.split()) in text
    assert CONTRACT.labels.actor("dms") in text and "403" in text
    assert entry.evaluate("e => getComputedStyle(e).borderLeftColor") == "rgb(198, 40, 40)"  # red
