"""The API's browsable docs (/api/v1/docs): Swagger UI from the product's own static files
renders every operation under the site's Content-Security-Policy, on a desktop and a phone."""

from __future__ import annotations

import pytest

from tests.browser.test_csp import Watched

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1366, 390])
def test_docs_page_renders_every_operation_without_a_cdn(live_server, new_page, shot, width):
    page = new_page()
    page.set_viewport_size({"width": width, "height": 900})
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None)
    watched = Watched(page)
    response = page.goto(f"{live_server.url}/api/v1/docs")
    assert response is not None and response.status == 200
    page.wait_for_selector(".opblock-summary-path", timeout=15_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/v1/{business_type}/validate" in p.replace("\u200b", "") for p in paths), paths
    schema = page.request.get(f"{live_server.url}/api/v1/openapi.json").json()
    operations = sum(len(ops) for ops in schema["paths"].values())
    assert page.locator(".opblock").count() == operations
    shot(page, f"docs-{width}")
    watched.check("/api/v1/docs")
    assert outside == [], outside  # no CDN, no font or script from elsewhere
