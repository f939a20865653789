"""批量办理 with photos, in chromium with the real long-queue worker, in Chinese and English at
1366 px and 390 px: the spreadsheet and a .zip of photos named by 证件号码, the per-photo result
list on the import screen, one row's photo replaced with 更换照片, and a row that wants a card
without a photo failing the audit with PHOTO_REQUIRED."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.batch.conftest import enrol_row, xlsx_bytes
from tests.browser.conftest import AUDIT_TIMEOUT_MS
from tests.browser.test_robustness_pages import page_in, sign_in
from tests.factories import make_resident_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = {
    "zh-hans": {
        "file": "选择文件（浏览）",
        "photos": "照片压缩包（.zip，可选）",
        "upload": "上传",
        "replace": "更换照片",
        "direct": "直接上传",
        "choose_row": "选择第 {n} 行的照片",
        "attached": "已添加到第 2 行",
        "unknown": "没有证件号码为",
        "small": "照片太小",
        "replaced": "第 2 行的照片已上传",
        "submit": "提交审批",
    },
    "en": {
        "file": "Choose file (Browse)",
        "photos": "Zip of photos (.zip, optional)",
        "upload": "Upload",
        "replace": "Replace photo",
        "direct": "Upload directly",
        "choose_row": "Choose the photo of row {n}",
        "attached": "Added to row 2",
        "unknown": "No person in the file has the ID number",
        "small": "too small",
        "replaced": "The photo of row 2 was uploaded",
        "submit": "Submit for approval",
    },
}


def _image(size=(600, 800), colour=(200, 180, 160)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_batch_with_a_zip_of_photos(
    site, long_worker, browser, browser_context_args, live_server, shot, language, viewport, tmp_path
):
    text = TEXT[language]
    birth = dt.date(1990, 5, 17)
    first, second, unknown = (make_resident_id(birth) for _ in range(3))
    sheet = tmp_path / "增员名单.xlsx"
    sheet.write_bytes(
        xlsx_bytes([enrol_row(first, 是否制卡="是", 姓名="周一"), enrol_row(second, 是否制卡="是", 姓名="吴二")])
    )
    photos = tmp_path / "照片.zip"
    with zipfile.ZipFile(photos, "w") as archive:
        archive.writestr(f"照片/{first}.jpg", _image())
        archive.writestr(f"{second}.jpg", _image((60, 70)))
        archive.writestr(f"{unknown}.jpg", _image())
        archive.writestr("__MACOSX/._x.jpg", b"fork")
    context, page = page_in(browser, browser_context_args, live_server, language, viewport)
    try:
        sign_in(page, site.url, site.vip_user.username, site.vip.number)
        page.goto(f"{site.url}/batch/upload/enrol/")
        page.get_by_label(text["file"]).set_input_files(sheet)
        page.get_by_label(text["photos"]).set_input_files(photos)
        shot(page, f"{language}-{viewport}-upload-form")
        page.get_by_role("button", name=text["upload"], exact=True).click()
        expect(page.get_by_test_id("counts")).to_be_visible(timeout=AUDIT_TIMEOUT_MS)
        results = page.get_by_test_id("photo-results")
        expect(results.locator("tbody tr")).to_have_count(3)
        expect(results.locator("tr", has_text=f"{first}.jpg")).to_contain_text(text["attached"])
        expect(results.locator("tr", has_text=f"{second}.jpg")).to_contain_text(text["small"])
        expect(results.locator("tr", has_text=f"{unknown}.jpg")).to_contain_text(text["unknown"])
        rows = page.get_by_test_id("rows")
        expect(rows.locator('tr[data-row="2"] img')).to_be_visible()
        expect(rows.locator('tr[data-row="3"] img')).to_have_count(0)
        shot(page, f"{language}-{viewport}-import-screen-photo-results")

        # Replace row 2's photo; give row 3 the one it lacked.
        page.get_by_label(text["choose_row"].format(n=2)).set_input_files(
            {"name": "new.jpg", "mimeType": "image/jpeg", "buffer": _image(colour=(30, 60, 120))}
        )
        rows.locator('tr[data-row="2"]').get_by_role("button", name=text["replace"]).click()
        expect(page.locator(".messages")).to_contain_text(text["replaced"])
        shot(page, f"{language}-{viewport}-row-photo-replaced")
        expect(rows.locator('tr[data-row="3"]').get_by_role("button", name=text["direct"])).to_be_visible()

        # Row 3 still has no photo: the audit fails it with PHOTO_REQUIRED.
        page.get_by_role("button", name=text["submit"]).click()
        expect(rows.locator('tr[data-row="3"]')).to_contain_text("PHOTO_REQUIRED", timeout=AUDIT_TIMEOUT_MS)
        expect(rows.locator('tr[data-row="2"]')).not_to_contain_text("PHOTO_REQUIRED")
        shot(page, f"{language}-{viewport}-audited")
    finally:
        context.close()
