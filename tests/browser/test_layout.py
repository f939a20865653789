"""The employer's pages fit: no page wider than the viewport, no badge, button or name cut or
wrapped inside itself, at 1366 px and 390 px, in Chinese and English. Screenshots of each go
to test-artifacts/browser/<test>/."""

from __future__ import annotations

import pytest

from shebao.batch.models import Upload
from shebao.workflow import services
from shebao.workflow.models import Item, ItemStatus
from shebao.workflow.rules import Issue
from tests.browser.test_robustness_pages import page_in, sign_in
from tests.factories import TransactionFactory, make_resident_id
from tests.workflow.helpers import enrol_raw

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# An element overflows when its content is wider than its box; a badge or button wraps when
# it is taller than one line of its text.
CHECK = """() => {
  const out = [];
  if (document.documentElement.scrollWidth > window.innerWidth + 1) out.push("page wider than the viewport");
  for (const el of document.querySelectorAll(".badge, button, a.button, span.counts")) {
    const style = getComputedStyle(el);
    // hidden, or a control with no text (an icon such as the admin's sidebar toggle): no words to wrap
    if (el.offsetParent === null || !el.textContent.trim()) continue;
    const line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.6;
    const pad = parseFloat(style.paddingTop) + parseFloat(style.paddingBottom)
      + parseFloat(style.borderTopWidth) + parseFloat(style.borderBottomWidth);
    if (el.getBoundingClientRect().height - pad > line * 1.5) out.push("wraps: " + el.textContent.trim());
    if (el.scrollWidth > el.clientWidth + 1 && style.overflow !== "visible") out.push("cut: " + el.textContent.trim());
  }
  return out;
}"""


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_employer_pages_fit(site, browser, browser_context_args, live_server, shot, language, viewport):
    tx = services.transaction_save_single(
        employer=site.vip,
        actor=site.vip_user,
        business_type="enrol",
        raw={**enrol_raw(make_resident_id(serial=71)), "name": "欧阳万佳"},
    ).transaction
    rows = [{**enrol_raw(make_resident_id(serial=80 + n)), "name": name} for n, name in enumerate(["欧阳万佳", "李四"])]
    batch = TransactionFactory(employer=site.vip, operator=site.vip_user, business_type="enrol", rows=rows)
    first_file = "增员名单（第一次上传）.xlsx"
    Upload.objects.create(transaction=batch, filename=first_file, kind="xlsx", sha256="0" * 64, content=b"")
    # The corrected file uploaded beside it: its rows failed LOCKED_HERE, and it offers the replacement.
    refused = TransactionFactory(employer=site.vip, operator=site.vip_user, business_type="enrol", rows=rows)
    Upload.objects.create(
        transaction=refused,
        filename="增员名单（改正后）.xlsx",
        kind="xlsx",
        sha256="1" * 64,
        content=b"",
        lock_holders={batch.serial: batch.pk},
    )
    locked = Issue("LOCKED_HERE", "id_number", {"serial": batch.serial, "tx_id": batch.pk}).as_dict()
    Item.objects.filter(transaction=refused).update(status=ItemStatus.IMPORT_FAILED, import_issues=[locked])
    context, page = page_in(browser, browser_context_args, live_server, language, viewport)
    try:
        sign_in(page, site.url, site.vip_user.username, site.vip.number)
        for name, path in (
            ("home", "/home/"),
            ("business", "/business/enrol/"),
            ("single-form", "/business/enrol/single/"),
            ("transaction", f"/tx/{tx.pk}/"),
            ("persons", "/persons/"),
            ("batch-upload", "/batch/upload/enrol/"),
            ("batch-results", "/batch/results/enrol/"),
            ("batch-import-screen", f"/batch/{batch.pk}/"),
            ("batch-refused-locked-here", f"/batch/{refused.pk}/"),
            ("batch-upload-replacing", f"/batch/upload/enrol/?replace={batch.pk}"),
        ):
            page.goto(f"{site.url}{path}")
            page.wait_for_load_state("load")
            shot(page, f"{language}-{viewport}-{name}")
            assert page.evaluate(CHECK) == [], (name, path)
    finally:
        context.close()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_back_office_pages_fit(site, browser, browser_context_args, live_server, shot, language, viewport):
    tx = services.transaction_save_single(
        employer=site.ordinary,
        actor=site.ordinary_user,
        business_type="enrol",
        raw={**enrol_raw(make_resident_id(serial=91)), "wage": "3000"},
    ).transaction
    services.transaction_submit(tx=tx, actor=site.ordinary_user, version=tx.version)
    assert services.run_audit(tx.pk) == "review"
    context, page = page_in(browser, browser_context_args, live_server, language, viewport)
    try:
        sign_in(page, site.url, site.clerk.username)
        for name, path in (("queue", "/backoffice/"), ("detail", f"/backoffice/tx/{tx.pk}/")):
            page.goto(f"{site.url}{path}")
            page.wait_for_load_state("load")
            shot(page, f"{language}-{viewport}-{name}")
            assert page.evaluate(CHECK) == [], (name, path)
    finally:
        context.close()
