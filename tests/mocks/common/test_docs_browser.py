"""`/docs` on each fake in Debian's chromium: Swagger UI renders that fake's OpenAPI from the
package's own assets, and "Try it out" on GET /api/v1/vehicles with a demo key gets a 200."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from icarflex.scenarios import browser
from icarflex.scenarios.fakes import LocalFakes, local_fakes

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not browser.available(), reason="Debian's chromium is not installed")]
KEYS = {"openflex": "demo-openflex-key", "icar": "demo-icar-key"}


@pytest.fixture(scope="module")
def fakes() -> Iterator[LocalFakes]:
    with local_fakes() as started:
        yield started


@pytest.mark.parametrize("system", ["openflex", "icar"])
def test_docs_page_uses_no_external_asset_and_a_30_document(fakes: LocalFakes, system: str) -> None:
    url = fakes.openflex_url if system == "openflex" else fakes.icar_url
    page = requests.get(f"{url}/docs", timeout=10)
    assert page.status_code == 200 and "http://" not in page.text and "https://" not in page.text
    document = requests.get(f"{url}/docs/openapi.json", timeout=10).json()
    published = requests.get(f"{url}/openapi.json", timeout=10).json()
    assert document["openapi"].startswith("3.0") and document["paths"] == published["paths"]
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


@pytest.mark.parametrize("system", ["openflex", "icar"])
def test_try_it_out_on_the_vehicle_list_gets_a_200_with_a_demo_key(fakes: LocalFakes, system: str) -> None:
    url = fakes.openflex_url if system == "openflex" else fakes.icar_url
    external: list[str] = []
    with browser.chromium() as chromium:
        page = chromium.new_page(viewport={"width": 1280, "height": 900})
        page.on("request", lambda r: r.url.startswith((url, "data:")) or external.append(r.url))
        page.goto(f"{url}/docs")
        page.locator(".opblock").first.wait_for(timeout=15_000)
        page.locator("button.authorize").first.click()
        page.locator(".modal-ux input").fill(KEYS[system])
        page.locator(".modal-ux .auth-btn-wrapper button.authorize").click()
        page.locator(".modal-ux button.btn-done").click()
        operation = page.locator(".opblock-get", has=page.locator('[data-path="/api/v1/vehicles"]'))
        operation.locator(".opblock-summary").first.click()
        operation.locator("button.try-out__btn").click()
        with page.expect_response(lambda r: r.url.startswith(f"{url}/api/v1/vehicles")) as answer:
            operation.locator("button.execute").click()
        assert answer.value.status == 200
        status = operation.locator(".live-responses-table tbody .response-col_status").first
        status.wait_for(timeout=10_000)
        assert status.inner_text().strip() == "200"
    assert external == []
