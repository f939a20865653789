"""Attached scans (不见面审批) as a user reads them: an operator uploads a PNG on a saved
transaction's page by its Chinese labels (上传材料, 材料名称, 选择文件) and sees it listed; the
clerk of the district sees its thumbnail beside the data; both pages in Chinese and English,
on a 1366 px desktop and a 390 px phone, without sideways scrolling. Screenshots go to
test-artifacts/browser/<test>/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from shebao.workflow import registry
from shebao.workflow.models import Attachment
from tests.browser.test_robustness_pages import page_in, sign_in
from tests.workflow.scan_type import CODE, REQUIRED, ScanCheck, pdf, png, saved_tx

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scan_type():
    registry.register(ScanCheck)
    yield
    registry.unregister(CODE)


def test_an_operator_uploads_a_png_by_the_chinese_labels_and_sees_it_listed(
    site, scan_type, browser, browser_context_args, live_server, shot, tmp_path
):
    tx = saved_tx(site.ordinary, site.ordinary_user)
    scan = tmp_path / "营业执照副本.png"
    scan.write_bytes(png())
    context, page = page_in(browser, browser_context_args, live_server, "zh-hans", "desktop")
    try:
        sign_in(page, site.url, site.ordinary_user.username, site.ordinary.number)
        page.goto(f"{site.url}/tx/{tx.pk}/")
        section = page.locator("#attachments")
        expect(section.get_by_role("heading", name="上传材料")).to_be_visible()
        expect(section.get_by_text(f"提交审批前须上传：「{REQUIRED}」")).to_be_visible()
        section.get_by_label("材料名称").select_option(label=REQUIRED)
        section.get_by_label("选择文件").set_input_files(str(scan))
        section.get_by_role("button", name="上传", exact=True).click()
        page.wait_for_load_state("load")
        expect(page.get_by_text(f"已上传「营业执照副本.png」（{REQUIRED}）。")).to_be_visible()
        rows = page.get_by_test_id("attachment-list").locator("tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text(REQUIRED)
        expect(rows.first).to_contain_text("营业执照副本.png")
        expect(page.get_by_test_id("materials-missing")).to_have_count(0)
        with page.expect_download() as download:
            rows.first.get_by_role("link", name="下载").click()
        assert download.value.suggested_filename == "营业执照副本.png"
        shot(page, "uploaded")
        assert Attachment.objects.filter(transaction=tx, removed_at__isnull=True).count() == 1
    finally:
        context.close()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_attachment_pages_fit(
    site, scan_type, browser, browser_context_args, live_server, shot, language, viewport
):
    from shebao.core.scans import check_scan
    from shebao.workflow import services

    tx = saved_tx(site.ordinary, site.ordinary_user)
    for data, name, material in (
        (png(1200, 1700, (236, 240, 245)), "单位申请书-第一页扫描件-2026年6月-盖章版本.png", REQUIRED),
        (pdf(3), "劳动合同.pdf", "其他材料"),
    ):
        scan = check_scan(data, name, max_bytes=10 << 20, max_pages=50)
        services.attachment_add(tx=tx, actor=site.ordinary_user, material=material, scan=scan)
    context, page = page_in(browser, browser_context_args, live_server, language, viewport)
    try:
        sign_in(page, site.url, site.ordinary_user.username, site.ordinary.number)
        page.goto(f"{site.url}/tx/{tx.pk}/#attachments")
        expect(page.get_by_test_id("attachment-list").locator("tbody tr")).to_have_count(2)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.locator("#attachments").scroll_into_view_if_needed()
        shot(page, f"{language}-{viewport}-employer")
    finally:
        context.close()
    context, page = page_in(browser, browser_context_args, live_server, language, viewport)
    try:
        sign_in(page, site.url, site.clerk.username)
        page.goto(f"{site.url}/backoffice/tx/{tx.pk}/")
        images = page.locator("#attachments img")
        expect(images).to_have_count(1)
        # The thumbnail loads lazily: once in view, it must load and show a picture.
        page.locator("#attachments").scroll_into_view_if_needed()
        images.first.scroll_into_view_if_needed()
        page.wait_for_function("document.querySelector('#attachments img').naturalWidth > 0")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot(page, f"{language}-{viewport}-clerk")
    finally:
        context.close()
