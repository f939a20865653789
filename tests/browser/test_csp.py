"""The Content-Security-Policy holds in chromium: the main pages of every role, the admin's
included, load and work without a single violation."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from playwright.sync_api import expect

from shebao.workflow import services
from shebao.workflow.models import State, Transaction
from tests.browser.conftest import PASSWORD
from tests.browser.pages import login
from tests.factories import AdminFactory, make_resident_id
from tests.workflow.helpers import enrol_raw

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every violation reaches the page as a securitypolicyviolation event (collected here, by a
# script the browser injects itself, which the policy does not apply to) and the console.
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || "") + ":"
                    + e.lineNumber);
});
"""


class Watched:
    def __init__(self, page):
        self.page = page
        self.console: list[str] = []
        page.add_init_script(WATCH)
        page.on("console", lambda msg: self.console.append(msg.text) if "Content Security Policy" in msg.text else None)

    def visit(self, url: str, shot, step: str) -> None:
        response = self.page.goto(url)
        assert response is not None and response.status == 200, (url, response and response.status)
        assert "script-src 'self'" in response.headers["content-security-policy"], url
        self.page.wait_for_load_state("load")
        shot(self.page, step)
        self.check(url)

    def check(self, where: str) -> None:
        events = self.page.evaluate("window.__csp || []")
        assert events == [] and self.console == [], (where, events, self.console)


def saved_and_in_review(site) -> tuple[Transaction, Transaction]:
    def save(seq):
        result = services.transaction_save_single(
            employer=site.ordinary,
            actor=site.ordinary_user,
            business_type="enrol",
            raw=enrol_raw(make_resident_id(dt.date(1990, 5, 17), serial=seq)),
        )
        assert result.ok, [i.code for i in result.issues]
        return result.transaction

    saved, review = save(71), save(72)
    services.transaction_submit(tx=review, actor=site.ordinary_user, version=review.version)
    deadline = time.monotonic() + 30
    while Transaction.objects.get(pk=review.pk).state != State.REVIEW:  # the worker audits it
        assert time.monotonic() < deadline, "the audit did not finish"
        time.sleep(0.1)
    return saved, review


def test_main_pages_of_every_role_report_no_csp_violation(site, new_page, shot):
    saved, review = saved_and_in_review(site)

    anonymous = Watched(new_page())
    anonymous.visit(f"{site.url}/accounts/login/", shot, "login")

    operator = Watched(new_page())
    login(operator.page, site.url, site.ordinary_user.username, site.ordinary.number)
    for path, step in [
        ("/home/", "home"),
        ("/persons/", "persons"),
        ("/business/enrol/", "business"),
        ("/business/enrol/single/", "single form"),
        (f"/tx/{saved.pk}/", "saved transaction"),
        (f"/tx/{review.pk}/", "transaction in review"),
        ("/accounts/password/", "password"),
    ]:
        operator.visit(site.url + path, shot, f"operator {step}")
    # The single form's live check (a script of ours fetching the rule catalogue) still runs.
    operator.visit(f"{site.url}/business/enrol/single/", shot, "operator form again")
    operator.page.get_by_label("证件号码").fill("420102199005170000")
    operator.page.keyboard.press("Tab")
    expect(operator.page.locator('.field[data-field="id_number"] .field-error')).not_to_have_text("")
    operator.check("live check")

    clerk = Watched(new_page())
    login(clerk.page, site.url, site.clerk.username)
    clerk.visit(f"{site.url}/backoffice/", shot, "clerk queue")
    clerk.visit(f"{site.url}/backoffice/tx/{review.pk}/", shot, "clerk detail")

    AdminFactory(username="csp-admin")
    admin = Watched(new_page())
    admin.page.goto(f"{site.url}/accounts/login/")
    admin.page.get_by_label("用户名").fill("csp-admin")
    admin.page.get_by_label("密码").fill(PASSWORD)
    admin.page.get_by_role("button", name="登录").click()
    expect(admin.page).to_have_url(f"{site.url}/admin/")
    admin.check("admin index")
    user = site.ordinary_user
    for path, step in [
        ("/admin/", "admin index"),
        ("/admin/accounts/user/", "users"),
        (f"/admin/accounts/user/{user.pk}/change/", "user"),
        ("/admin/accounts/user/add/", "new user"),
        ("/admin/employers/employer/", "employers"),
        (f"/admin/employers/employer/{site.ordinary.pk}/change/", "employer"),
    ]:
        admin.visit(site.url + path, shot, f"admin {step}")
    # The admin's own scripts work under the policy: the user list's "select all" ticks every row.
    admin.visit(f"{site.url}/admin/accounts/user/", shot, "users again")
    admin.page.locator("#action-toggle").check()
    expect(admin.page.locator("input.action-select").first).to_be_checked()
    admin.check("admin select all")
