"""What a user does on the pages, by the labels they read (Chinese UI)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from shebao.core.months import current_month
from tests.browser.conftest import AUDIT_TIMEOUT_MS, PASSWORD


def bad_check_char(id_number: str) -> str:
    """The same number with a wrong check character."""
    last = id_number[-1]
    return id_number[:-1] + ("1" if last != "1" else "2")


def login(page: Page, base_url: str, username: str, employer_number: str = "") -> None:
    page.goto(f"{base_url}/accounts/login/")
    if employer_number:
        page.get_by_label("单位编号").fill(employer_number)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("who")).to_contain_text(username)


def go_home(page: Page) -> None:
    page.locator("nav.mainnav").get_by_role("link", name="首页", exact=True).click()
    expect(page.get_by_role("heading", name="待办任务列表")).to_be_visible()


def open_single_enrol(page: Page) -> None:
    go_home(page)
    page.locator("section.card").first.get_by_role("link", name="增员(续保)").click()
    page.get_by_role("link", name="单个办理").click()
    expect(page.get_by_role("heading", name="增员(续保) · 单个办理")).to_be_visible()


def field(page: Page, name: str):
    """The box of one form field (label, input, its live error and warning)."""
    return page.locator(f'.field[data-field="{name}"]')


def fill_enrol(page: Page, *, id_number: str, name: str, wage: str = "6500") -> None:
    page.get_by_label("证件号码").fill(id_number)
    page.get_by_label("姓名", exact=False).fill(name)
    page.get_by_label("户口性质").select_option(label="城镇")
    page.get_by_label("个人身份").select_option(label="工人")
    page.get_by_label("用工形式").select_option(label="劳动合同")
    page.get_by_label("参加工作日期").fill("2012-07-01")
    page.get_by_label("参保起始年月").fill(current_month().strftime("%Y-%m"))
    page.get_by_label("申报月工资").fill(wage)
    page.get_by_label("联系电话").fill("13800000000")


def save_new(page: Page) -> str:
    """保存 on the 单个办理 form; returns the 流水号 the transaction page shows."""
    page.get_by_role("button", name="保存", exact=True).click()
    serial = page.get_by_test_id("serial")
    expect(serial).to_have_text(re.compile(r"\S"))
    expect(page.get_by_test_id("business-status")).to_have_text("未提交")
    expect(page.get_by_test_id("returned-flag")).to_have_text("否")
    text = serial.inner_text().strip()
    assert text, "the transaction page shows no 流水号"
    return text


def task_row(page: Page, which: str, serial: str):
    """The row of 流水号 `serial` in 待办 ("todo") or 已办 ("done") 任务列表."""
    return page.get_by_test_id(f"{which}-list").locator(f'tr[data-serial="{serial}"]')


def cells(row) -> list[str]:
    return [c.strip() for c in row.locator("td").all_inner_texts()]


# 待办/已办 columns: 流水号 业务类型 办理方式 人数 时间 业务状态 回退标志 回退原因 审批结果 办理结果 操作
COL = {
    "serial": 0,
    "type": 1,
    "mode": 2,
    "count": 3,
    "time": 4,
    "status": 5,
    "returned": 6,
    "reasons": 7,
    "approval": 8,
    "outcome": 9,
    "action": 10,
}


def wait_approval(page: Page, text: str, timeout: int = AUDIT_TIMEOUT_MS) -> None:
    expect(page.get_by_test_id("approval")).to_have_text(text, timeout=timeout)


def accept_next_dialog(page: Page, messages: list[str] | None = None) -> None:
    def handle(dialog):
        if messages is not None:
            messages.append(dialog.message)
        dialog.accept()

    page.once("dialog", handle)


def dismiss_next_dialog(page: Page, messages: list[str] | None = None) -> None:
    def handle(dialog):
        if messages is not None:
            messages.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", handle)
