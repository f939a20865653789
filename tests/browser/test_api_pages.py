"""接口令牌 and 免费预检 in chromium: 单位信息 links to 接口令牌; the administrator creates a
token and sees it once (the list shows its prefix afterwards); 吊销 asks for a confirmation;
免费预检 of a file with a bad row shows that row's message; each page fits at 1366 px and
390 px in both languages (screenshots in test-artifacts/browser/<test>/). A transaction
made through the API shows its token in the history, on the employer's page and the clerk's."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from shebao.api import tokens
from shebao.api.models import ApiToken
from shebao.workflow.models import State, Transaction
from tests.batch.conftest import enrol_row, xlsx_bytes
from tests.browser.pages import bad_check_char
from tests.browser.test_layout import CHECK
from tests.browser.test_robustness_pages import page_in, sign_in
from tests.factories import make_resident_id
from tests.workflow.helpers import enrol_raw

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_tokens_and_precheck(site, browser, browser_context_args, live_server, shot, language, viewport):
    context, page = page_in(browser, browser_context_args, live_server, language, viewport)
    try:
        sign_in(page, site.url, site.vip_user.username, site.vip.number)
        page.goto(f"{site.url}/employer/")
        page.get_by_test_id("integration-links").locator('a[href="/integration/tokens/"]').click()
        expect(page.get_by_test_id("tokens")).to_be_visible()
        shot(page, f"{language}-{viewport}-tokens-empty")
        assert page.evaluate(CHECK) == [], "tokens (empty)"

        page.locator("#token-name").fill("金蝶云星空人事系统（总部）")
        page.locator('input[name=scope][value="write"]').check()
        page.get_by_test_id("token-create").click()
        secret = page.get_by_test_id("token-secret")
        expect(secret).to_be_visible()
        whole = secret.inner_text().strip()
        token = ApiToken.objects.get(employer=site.vip)
        assert whole.startswith(token.prefix + "_") and token.scope == "write"
        shot(page, f"{language}-{viewport}-token-created")
        assert page.evaluate(CHECK) == [], "token created"

        page.goto(f"{site.url}/integration/tokens/")
        expect(page.get_by_test_id("token-secret")).to_have_count(0)
        row = page.locator(f'tr[data-token="{token.pk}"]')
        expect(row).to_contain_text(f"{token.prefix}…")
        assert whole not in page.content()
        row.locator("details.confirm summary").click()
        expect(page.get_by_test_id(f"revoke-{token.pk}")).to_be_visible()
        shot(page, f"{language}-{viewport}-tokens-revoke-asked")
        assert page.evaluate(CHECK) == [], "tokens (revoke asked)"
        page.get_by_test_id(f"revoke-{token.pk}").click()
        expect(page.get_by_role("status").first).to_be_visible()
        expect(page.locator(f'tr[data-token="{token.pk}"] .badge.bad')).to_be_visible()
        token.refresh_from_db()
        assert token.revoked_at is not None
        shot(page, f"{language}-{viewport}-tokens-revoked")
        assert page.evaluate(CHECK) == [], "tokens (revoked)"

        page.goto(f"{site.url}/batch/upload/enrol/")
        page.get_by_test_id("precheck-link").click()
        expect(page.get_by_test_id("precheck-form")).to_be_visible()
        bad = bad_check_char(make_resident_id(serial=3))
        data = xlsx_bytes([enrol_row(make_resident_id(serial=2), 姓名="欧阳万佳"), enrol_row(bad, 姓名="司马相如")])
        page.get_by_test_id("file-input").set_input_files({"name": "增员名单.xlsx", "mimeType": XLSX, "buffer": data})
        page.get_by_test_id("precheck-button").click()
        result = page.get_by_test_id("precheck-rows").locator('tr[data-row="3"]')
        expect(result).to_contain_text("司马相如")
        expect(result).to_contain_text(bad)
        expect(result).to_contain_text("ID_CHECKSUM")
        expect(page.get_by_test_id("precheck-rows").locator("tbody tr")).to_have_count(1)
        shot(page, f"{language}-{viewport}-precheck-result")
        assert page.evaluate(CHECK) == [], "precheck result"
    finally:
        context.close()


def _api_post(base: str, path: str, secret: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"{base}{path}",
        data=json.dumps(body, ensure_ascii=False).encode(),
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_history_names_the_token(site, browser, browser_context_args, live_server, shot, language, viewport):
    secret = tokens.token_create(employer=site.vip, actor=site.vip_user, name="人事系统", scope="write").secret
    created = _api_post(site.url, "/api/v1/enrol/transactions", secret, {"row": enrol_raw(make_resident_id(serial=7))})
    _api_post(site.url, f"/api/v1/transactions/{created['id']}/submit", secret, {"version": created["version"]})
    deadline = time.monotonic() + 30
    while Transaction.objects.get(pk=created["id"]).state != State.FINISHED:  # the real short worker
        assert time.monotonic() < deadline, "the audit did not finish"
        time.sleep(0.1)
    via = "经接口令牌“人事系统”" if language == "zh-hans" else "via API token “人事系统”"
    for who, number, path, name in (
        (site.vip_user, site.vip.number, f"/tx/{created['id']}/", "employer"),
        (site.clerk, "", f"/backoffice/tx/{created['id']}/", "clerk"),
    ):
        context, page = page_in(browser, browser_context_args, live_server, language, viewport)
        try:
            sign_in(page, site.url, who.username, number)
            page.goto(f"{site.url}{path}")
            marks = page.get_by_test_id("event-via")
            expect(marks).to_have_count(2)  # 保存 and 提交审批; the audit's line names the system
            expect(marks.first).to_have_text(via)
            marks.first.scroll_into_view_if_needed()
            shot(page, f"{language}-{viewport}-{name}-history")
            assert page.evaluate(CHECK) == [], f"{name} history"
        finally:
            context.close()
