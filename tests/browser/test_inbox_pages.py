"""消息中心 in chromium, by the labels users read: the top bar's 消息 badge with the unread
count, the list (unread in bold), opening a message (its transaction), 全部标为已读 and
通知设置; the clerk's 新的待审核业务; and the pages fit at 1366 px and 390 px in both languages."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from shebao.inbox import services as inbox
from shebao.workflow import services
from shebao.workflow.models import Outbox
from tests.browser.test_layout import CHECK
from tests.browser.test_robustness_pages import page_in, sign_in
from tests.factories import make_resident_id
from tests.workflow.helpers import enrol_raw

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _finished_and_in_review(site):
    """A VIP's enrolment that finished and an ordinary employer's waiting for the clerk,
    their outbox delivered (the worker may have delivered them already: no matter)."""
    done = []
    for employer, user, serial in ((site.vip, site.vip_user, 71), (site.ordinary, site.ordinary_user, 72)):
        tx = services.transaction_save_single(
            employer=employer, actor=user, business_type="enrol", raw=enrol_raw(make_resident_id(serial=serial))
        ).transaction
        services.transaction_submit(tx=tx, actor=user, version=tx.version)
        services.run_audit(tx.pk)
        tx.refresh_from_db()
        done.append(tx)
    for pk in Outbox.objects.values_list("pk", flat=True):
        inbox.deliver(pk)
    return done


def test_the_operator_reads_a_message_and_the_badge_goes(site, new_page, shot):
    finished, _ = _finished_and_in_review(site)
    page = new_page()
    sign_in(page, site.url, site.vip_user.username, site.vip.number)
    badge = page.get_by_test_id("inbox-link")
    expect(badge).to_contain_text("消息")
    expect(page.get_by_test_id("inbox-count")).to_have_text("1")
    shot(page, "home-with-badge")
    badge.click()
    expect(page.get_by_role("heading", name="消息中心")).to_be_visible()
    item = page.locator(".inbox-list li.unread")
    expect(item).to_contain_text("业务已办结")
    expect(item).to_contain_text(finished.serial)
    assert page.locator(".inbox-list li.unread .inbox-title").evaluate("e => getComputedStyle(e).fontWeight") == "700"
    shot(page, "inbox-unread")
    item.get_by_text("业务已办结").click()
    expect(page).to_have_url(f"{site.url}/tx/{finished.pk}/")
    expect(page.get_by_test_id("inbox-count")).to_have_count(0)
    page.get_by_test_id("inbox-link").click()
    expect(page.locator(".inbox-list li.read")).to_contain_text("业务已办结")
    expect(page.get_by_role("button", name="全部标为已读")).to_have_count(0)
    page.get_by_label("同时发送电子邮件").check()
    page.get_by_role("button", name="保存设置").click()
    expect(page.get_by_role("status")).to_contain_text("接收邮件通知须填写电子邮箱")
    page.get_by_label("电子邮箱").fill("hr@example.com")
    page.get_by_label("同时发送电子邮件").check()
    page.get_by_role("button", name="保存设置").click()
    expect(page.get_by_role("status")).to_contain_text("通知设置已保存")
    expect(page.get_by_label("同时发送电子邮件")).to_be_checked()
    shot(page, "inbox-settings-saved")


def test_the_clerk_is_told_of_the_queue(site, new_page, shot):
    _, waiting = _finished_and_in_review(site)
    page = new_page()
    sign_in(page, site.url, site.clerk.username)
    expect(page.get_by_test_id("inbox-count")).to_have_text("1")
    page.get_by_test_id("inbox-link").click()
    expect(page.locator(".inbox-list li.unread")).to_contain_text("新的待审核业务")
    expect(page.locator(".inbox-list li.unread")).to_contain_text(site.ordinary.name)
    page.get_by_role("button", name="全部标为已读").click()
    expect(page.get_by_role("status")).to_contain_text("已将 1 条消息标为已读")
    expect(page.get_by_test_id("inbox-count")).to_have_count(0)
    page.get_by_text("新的待审核业务").click()
    expect(page).to_have_url(f"{site.url}/backoffice/tx/{waiting.pk}/")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_inbox_pages_fit(site, browser, browser_context_args, live_server, shot, language, viewport):
    _finished_and_in_review(site)
    for who, username, number in (
        ("operator", site.vip_user.username, site.vip.number),
        ("clerk", site.clerk.username, ""),
    ):
        context, page = page_in(browser, browser_context_args, live_server, language, viewport)
        try:
            sign_in(page, site.url, username, number)
            shot(page, f"{language}-{viewport}-{who}-topbar")
            assert page.evaluate(CHECK) == [], (who, "home")
            page.goto(f"{site.url}/inbox/")
            page.wait_for_load_state("load")
            shot(page, f"{language}-{viewport}-{who}-inbox")
            assert page.evaluate(CHECK) == [], (who, "inbox")
        finally:
            context.close()
