"""增员(续保) 单个办理 end to end in chromium, with the real short-queue worker.

Every step is a click on what the user reads (Chinese labels); every wait is on text.
"""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from shebao.workflow.models import State, Transaction
from tests.browser.conftest import AUDIT_TIMEOUT_MS
from tests.browser.pages import (
    COL,
    accept_next_dialog,
    bad_check_char,
    cells,
    dismiss_next_dialog,
    field,
    fill_enrol,
    go_home,
    login,
    open_single_enrol,
    save_new,
    task_row,
    wait_approval,
)
from tests.factories import make_resident_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_vip_single_enrolment_save_submit_and_finish(site, new_page, shot):
    page = new_page()
    login(page, site.url, site.vip_user.username, site.vip.number)
    expect(page.get_by_test_id("who")).to_contain_text(site.vip.number)
    shot(page, "home after login")

    open_single_enrol(page)
    # Required fields are marked: a red asterisk and a red label.
    required = field(page, "id_number")
    expect(required).to_have_class("field required")
    expect(required.locator(".req")).to_have_text("*")
    assert required.locator("label").evaluate("e => getComputedStyle(e).color") == "rgb(198, 40, 40)"
    expect(field(page, "address")).not_to_have_class("field required")

    pid = make_resident_id(dt.date(1990, 5, 17), serial=11)
    fill_enrol(page, id_number=bad_check_char(pid), name="王小明")
    # Leaving the ID field runs the rule catalogue: the error appears under that field only.
    page.get_by_label("证件号码").focus()
    page.keyboard.press("Tab")
    expect(field(page, "id_number").locator(".field-error")).to_contain_text("ID_CHECKSUM")
    expect(field(page, "id_number")).to_have_class("field required has-error")
    expect(field(page, "name").locator(".field-error")).to_have_text("")
    shot(page, "live error on a bad ID")

    page.get_by_label("证件号码").fill(pid)
    page.keyboard.press("Tab")
    expect(field(page, "id_number").locator(".field-error")).to_have_text("")
    expect(field(page, "id_number")).not_to_have_class("has-error")

    serial = save_new(page)
    expect(page.locator(".messages")).to_contain_text(serial)
    shot(page, "saved with serial")

    go_home(page)
    row = task_row(page, "todo", serial)
    expect(row).to_be_visible()
    row_cells = cells(row)
    assert row_cells[COL["type"]] == "增员(续保)" and row_cells[COL["mode"]] == "单个"
    assert row_cells[COL["status"]] == "未提交" and row_cells[COL["returned"]] == "否"
    shot(page, "todo list")
    row.get_by_role("link", name="办理").click()
    expect(page.get_by_test_id("serial")).to_have_text(serial)
    expect(page.get_by_label("证件号码")).to_have_value(pid)

    # Kill the worker so the page is seen waiting (进行中); the queued audit is durable and
    # runs when a worker is back, and the page updates itself without a navigation.
    site.worker.stop(kill=True)
    page.get_by_role("button", name="提交审批").click()
    wait_approval(page, "进行中", timeout=5_000)
    expect(page.locator("#auditing-note")).to_be_visible()
    shot(page, "submitted - in progress")
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
    site.worker.start()
    wait_approval(page, "结束")
    expect(page.get_by_test_id("business-status")).to_have_text("已提交")
    expect(page.locator("#auditing-note")).to_have_count(0)
    assert navigations == [], f"the result screen reloaded: {navigations}"
    shot(page, "finished without reload")

    go_home(page)
    expect(task_row(page, "todo", serial)).to_have_count(0)
    done = task_row(page, "done", serial)
    expect(done).to_be_visible()
    assert cells(done)[COL["approval"]].startswith("结束")
    shot(page, "done list")

    page.locator("nav.mainnav").get_by_role("link", name="参保人员").click()
    expect(page.get_by_test_id("persons")).to_contain_text(pid)
    assert Transaction.objects.get(serial=serial).state == State.FINISHED


def test_ordinary_return_fix_resubmit_and_approve(site, new_page, shot):
    employer = new_page()
    login(employer, site.url, site.ordinary_user.username, site.ordinary.number)
    open_single_enrol(employer)
    pid = make_resident_id(dt.date(1990, 5, 17), serial=21)
    fill_enrol(employer, id_number=pid, name="李晓红", wage="5200")
    serial = save_new(employer)

    employer.get_by_role("button", name="提交审批").click()
    # A clean automatic audit: the transaction waits for the clerk (进行中) and the employer
    # is told what to bring and where.
    materials = employer.get_by_test_id("materials")
    expect(materials).to_be_visible(timeout=AUDIT_TIMEOUT_MS)
    expect(materials).to_contain_text(site.office.address)
    expect(materials).to_contain_text(site.office.hours)
    expect(materials).to_contain_text(serial)
    wait_approval(employer, "进行中")
    shot(employer, "awaiting review - materials notice")

    clerk = new_page()
    login(clerk, site.url, site.clerk.username)  # a clerk has no 单位编号
    expect(clerk).to_have_url(f"{site.url}/backoffice/")
    expect(clerk.get_by_test_id("queue")).to_contain_text(serial)
    clerk.get_by_label("流水号").fill(serial)
    clerk.get_by_role("button", name="查询").click()
    expect(clerk.get_by_test_id("serial")).to_have_text(serial)
    expect(clerk.get_by_test_id("person").locator('[data-field="id_number"]')).to_have_text(pid)
    shot(clerk, "clerk detail")
    # 回退 needs a reason: the browser refuses to send the form without one.
    reason_box = clerk.get_by_label("回退原因")
    clerk.get_by_role("button", name="回退", exact=True).click()
    assert reason_box.evaluate("e => e.validity.valueMissing")
    expect(clerk.get_by_test_id("state")).to_have_text("待经办机构审核")
    reason = "申报工资与劳动合同不符，请核对后重新申报"
    reason_box.fill(reason)
    clerk.get_by_role("button", name="回退", exact=True).click()
    expect(clerk.locator(".messages")).to_contain_text(f"{serial} 已回退")
    expect(clerk.get_by_test_id("queue")).not_to_contain_text(serial)

    go_home(employer)
    row = task_row(employer, "todo", serial)
    expect(row).to_be_visible()
    row_cells = cells(row)
    assert row_cells[COL["status"]] == "未提交" and row_cells[COL["returned"]] == "是"
    assert reason in row_cells[COL["reasons"]]
    shot(employer, "returned in todo with reason")

    row.get_by_role("link", name="办理").click()
    expect(employer.get_by_test_id("reasons")).to_contain_text(reason)
    expect(employer.get_by_test_id("returned-flag")).to_have_text("是")
    employer.get_by_label("申报月工资").fill("6800")
    employer.get_by_role("button", name="保存", exact=True).click()
    expect(employer.locator(".messages")).to_contain_text("已保存")
    expect(employer.get_by_label("申报月工资")).to_have_value("6800.00")
    employer.get_by_role("button", name="提交审批").click()
    expect(employer.get_by_test_id("materials")).to_be_visible(timeout=AUDIT_TIMEOUT_MS)
    # 回退原因 is the current return's: resubmitted, it is gone from the page (进行中) and
    # from the list, and stays in the history.
    expect(employer.locator("#reasons-box")).to_be_hidden()
    expect(employer.get_by_test_id("history")).to_contain_text(reason)
    go_home(employer)
    in_progress = cells(task_row(employer, "done", serial))
    assert in_progress[COL["approval"]] == "进行中" and reason not in in_progress[COL["reasons"]]
    assert in_progress[COL["outcome"]] == "待经办机构审核"
    shot(employer, "resubmitted - no old return reason")
    employer.go_back()
    employer.wait_for_load_state("load")

    clerk.reload()
    expect(clerk.get_by_test_id("queue")).to_contain_text(serial)
    clerk.get_by_test_id("queue").get_by_role("link", name=serial).click()
    expect(clerk.get_by_test_id("person").locator('[data-field="wage"]')).to_have_text("6800.00")
    asked = []
    accept_next_dialog(clerk, asked)
    clerk.get_by_role("button", name="通过", exact=True).click()
    expect(clerk.locator(".messages")).to_contain_text(f"{serial} 已审核通过")
    assert asked and "通过" in asked[0]
    shot(clerk, "approved")

    employer.reload()
    wait_approval(employer, "结束")
    go_home(employer)
    done = cells(task_row(employer, "done", serial))
    assert done[COL["approval"]].startswith("结束") and reason not in done[COL["reasons"]]
    assert done[COL["outcome"]] == "办结，已生效"  # 办理结果 says how it ended
    shot(employer, "finished in done list")


def test_withdraw_then_cancel_with_confirmation(site, new_page, shot):
    page = new_page()
    login(page, site.url, site.ordinary_user.username, site.ordinary.number)
    open_single_enrol(page)
    pid = make_resident_id(dt.date(1990, 5, 17), serial=31)
    fill_enrol(page, id_number=pid, name="赵敏")
    serial = save_new(page)
    page.get_by_role("button", name="提交审批").click()
    expect(page.get_by_test_id("materials")).to_be_visible(timeout=AUDIT_TIMEOUT_MS)

    # 撤回 while no clerk has acted: back to the to-do list as 未提交.
    asked = []
    accept_next_dialog(page, asked)
    page.get_by_role("button", name="撤回").click()
    expect(page.locator(".messages")).to_contain_text("已撤回")
    expect(page.get_by_test_id("business-status")).to_have_text("未提交")
    assert asked and "撤回" in asked[0]
    shot(page, "withdrawn")
    go_home(page)
    assert cells(task_row(page, "todo", serial))[COL["status"]] == "未提交"
    task_row(page, "todo", serial).get_by_role("link", name="办理").click()

    # 退单 asks first: dismissing keeps the transaction.
    dismiss_next_dialog(page, asked)
    page.get_by_role("button", name="退单").click()
    expect(page.get_by_test_id("business-status")).to_have_text("未提交")
    assert "退单" in asked[-1]
    assert Transaction.objects.get(serial=serial).state != State.CANCELLED
    accept_next_dialog(page)
    page.get_by_role("button", name="退单").click()
    expect(page.locator(".messages")).to_contain_text(f"已退单，流水号 {serial}")
    expect(page.get_by_role("heading", name="待办任务列表")).to_be_visible()
    expect(task_row(page, "todo", serial)).to_have_count(0)
    shot(page, "cancelled")
    assert Transaction.objects.get(serial=serial).state == State.CANCELLED

    # The person lock went with it: the same person can be enrolled again at once.
    open_single_enrol(page)
    fill_enrol(page, id_number=pid, name="赵敏")
    assert save_new(page) != serial
