"""单位信息 and 单位信息变更 in chromium, by the labels users read: the employer's name in the top
bar opens 单位信息; 变更单位信息 opens the form filled with the current details; a new 联系电话
and 电子邮箱 take effect at 提交审批 (结束) and show in 变更记录; a new 银行账号 is refused at 提交审批
until the bank's proof is attached, then waits for the clerk; the pages fit at 1366 px and
390 px in both languages."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from shebao.employers.models import EmployerChange
from shebao.workflow.models import State, Transaction
from tests.browser.pages import login, wait_approval
from tests.browser.test_layout import CHECK
from tests.browser.test_robustness_pages import page_in, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CODE = "employer_info"
BANK_PROOF = "开户银行出具的银行账户证明（开户许可证或基本存款账户信息）"


@pytest.fixture
def site(site):
    """The VIP employer with the contact details every registered employer has."""
    site.vip.contact_name, site.vip.contact_phone = "王经理", "13912345678"
    site.vip.address = "武汉市江岸区沿江大道188号"
    site.vip.save(update_fields=["contact_name", "contact_phone", "address"])
    return site


def test_contact_change_takes_effect_and_shows_in_the_history(site, new_page, shot):
    page = new_page()
    login(page, site.url, site.vip_user.username, site.vip.number)
    page.get_by_test_id("employer-details-link").click()
    expect(page.get_by_role("heading", name="单位信息")).to_be_visible()
    shot(page, "details")
    page.get_by_role("link", name="变更单位信息").click()
    expect(page.get_by_label("单位名称")).to_have_value(site.vip.name)
    page.get_by_label("联系电话").fill("027-85551234")
    page.get_by_label("电子邮箱").fill("hr@example.com")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_test_id("business-status")).to_have_text("未提交")
    page.get_by_role("button", name="提交审批").click()
    wait_approval(page, "结束")
    shot(page, "finished")
    site.vip.refresh_from_db()
    assert (site.vip.contact_phone, site.vip.email) == ("027-85551234", "hr@example.com")

    page.get_by_test_id("employer-details-link").click()
    history = page.get_by_test_id("employer-changes")
    expect(history).to_contain_text("027-85551234")
    expect(history).to_contain_text("hr@example.com")
    expect(page.get_by_test_id("employer-details")).to_contain_text("hr@example.com")
    shot(page, "history")
    assert EmployerChange.objects.filter(employer=site.vip).count() == 2


def test_a_bank_change_needs_the_banks_proof_and_a_clerk(site, new_page, shot, tmp_path):
    page = new_page()
    login(page, site.url, site.vip_user.username, site.vip.number)
    page.get_by_test_id("employer-details-link").click()
    page.get_by_role("link", name="变更单位信息").click()
    page.get_by_label("开户银行").fill("中国工商银行武汉江岸支行")
    page.get_by_label("银行账号").fill("3202 0012 0900 0123 456")
    page.get_by_label("户名").fill(site.vip.name)
    page.get_by_role("button", name="保存", exact=True).click()
    page.get_by_role("button", name="提交审批").click()
    expect(page.locator(".messages")).to_contain_text(BANK_PROOF)
    shot(page, "materials missing")

    scan = tmp_path / "开户许可证.png"
    out = io.BytesIO()
    Image.new("RGB", (900, 1200), (250, 250, 245)).save(out, "PNG")
    scan.write_bytes(out.getvalue())
    section = page.locator("#attachments")
    section.get_by_label("材料名称").select_option(label=BANK_PROOF)
    section.get_by_label("选择文件").set_input_files(str(scan))
    section.get_by_role("button", name="上传", exact=True).click()
    page.wait_for_load_state("load")
    page.get_by_role("button", name="提交审批").click()
    wait_approval(page, "进行中")
    shot(page, "awaiting the clerk")
    assert Transaction.objects.get(business_type=CODE).state == State.REVIEW
    site.vip.refresh_from_db()
    assert site.vip.bank_account == ""  # nothing changes before the clerk approves


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_employer_pages_fit(site, browser, browser_context_args, live_server, shot, language, viewport):
    from shebao.workflow import services

    result = services.transaction_save_single(
        employer=site.vip,
        actor=site.vip_user,
        business_type=CODE,
        raw={
            "contact_name": "王经理",
            "contact_phone": "13912345678",
            "email": "hr@example.com",
            "address": site.vip.address or "武汉市江岸区沿江大道1号",
            "employer_name": site.vip.name,
            "credit_code": site.vip.credit_code,
        },
    )
    tx = result.transaction
    services.transaction_submit(tx=tx, actor=site.vip_user, version=tx.version)
    services.run_audit(tx.pk)
    context, page = page_in(browser, browser_context_args, live_server, language, viewport)
    try:
        sign_in(page, site.url, site.vip_user.username, site.vip.number)
        for name, path in (
            ("details", "/employer/"),
            ("change-form", f"/business/{CODE}/single/"),
            ("finished", f"/tx/{tx.pk}/"),
        ):
            page.goto(f"{site.url}{path}")
            page.wait_for_load_state("load")
            shot(page, f"{language}-{viewport}-{name}")
            assert page.evaluate(CHECK) == [], (name, path)
    finally:
        context.close()
