"""The employer's pages of the API: 接口令牌 (新建令牌 shown once, 只读/读写, 吊销, only the
单位管理员 manages them, hostile names) and 免费预检 (a real file's failing rows shown, nothing
saved, a file that is no spreadsheet refused)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shebao.api.models import ApiToken, Scope
from shebao.workflow.models import Item, PersonLock, Transaction
from tests.batch.conftest import enrol_row, xlsx_bytes
from tests.factories import make_resident_id

pytestmark = pytest.mark.django_db

TOKENS = "/integration/tokens/"
PRECHECK = "/integration/precheck/"


def _create(client, name="人事系统", scope="read"):
    return client.post(TOKENS, {"name": name, "scope": scope})


# --- 接口令牌 --------------------------------------------------------------------------------


def test_the_urls_are_mounted():
    assert reverse("api:tokens") == TOKENS
    assert reverse("api:precheck") == PRECHECK


def test_the_administrator_creates_a_token_and_sees_it_once(pages_admin):
    response = _create(pages_admin, name="金蝶人事系统", scope="write")
    assert response.status_code == 200
    page = response.content.decode()
    token = ApiToken.objects.get()
    secret = response.context["created"].secret
    assert secret.startswith(token.prefix + "_") and len(secret) > 40
    assert secret in page
    assert "请立即复制保存，离开本页后将无法再次查看" in page
    assert (token.name, token.scope, token.employer_id, token.created_by_id) == (
        "金蝶人事系统",
        Scope.WRITE,
        pages_admin.employer.pk,
        pages_admin.user.pk,
    )
    assert token.digest != secret and secret not in str(dict(pages_admin.session))
    # The list afterwards: the prefix only, never the token again.
    again = pages_admin.get(TOKENS).content.decode()
    assert f"{token.prefix}…" in again
    assert secret not in again and secret[len(token.prefix) :] not in again
    assert "金蝶人事系统" in again and "读写" in again and "从未使用" in again and "有效" in again


def test_the_same_form_posted_again_creates_no_second_token(pages_admin):
    once = pages_admin.get(TOKENS).context["once"]
    form = {"name": "用友薪资", "scope": "write", "once": once}
    first = pages_admin.post(TOKENS, form)
    assert first.status_code == 200 and first.context["created"] is not None
    again = pages_admin.post(TOKENS, form)  # a reload of the answer posts the form again
    assert again.status_code == 409 and again.context["created"] is None
    page = again.content.decode()
    assert "该令牌已创建，完整令牌只显示一次" in page and first.context["created"].secret not in page
    assert ApiToken.objects.count() == 1
    # A refused form keeps its value: corrected and posted, it creates the token.
    once = pages_admin.get(TOKENS).context["once"]
    refused = pages_admin.post(TOKENS, {"name": "", "scope": "read", "once": once})
    assert refused.status_code == 400 and refused.context["once"] == once
    assert pages_admin.post(TOKENS, {"name": "报表", "scope": "read", "once": once}).context["created"] is not None
    assert ApiToken.objects.count() == 2


def test_read_only_and_read_write_are_stored(pages_admin):
    _create(pages_admin, name="只读系统", scope="read")
    _create(pages_admin, name="读写系统", scope="write")
    assert dict(ApiToken.objects.values_list("name", "scope")) == {"只读系统": "read", "读写系统": "write"}
    page = pages_admin.get(TOKENS).content.decode()
    assert "只读" in page and "读写" in page


def test_revoke_stops_the_token_and_a_second_revoke_changes_nothing(pages_admin):
    _create(pages_admin)
    token = ApiToken.objects.get()
    url = reverse("api:token_revoke", kwargs={"pk": token.pk})
    response = pages_admin.post(url, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "已吊销" in page and "令牌「人事系统」已吊销" in page
    token.refresh_from_db()
    first = token.revoked_at
    assert first is not None and token.revoked_by_id == pages_admin.user.pk
    assert f'action="{url}"' not in page  # no 吊销 button for a revoked token
    assert pages_admin.post(url).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at == first


def test_revoke_is_post_only(pages_admin):
    _create(pages_admin)
    token = ApiToken.objects.get()
    assert pages_admin.get(reverse("api:token_revoke", kwargs={"pk": token.pk})).status_code == 405
    token.refresh_from_db()
    assert token.is_active


def test_an_operator_who_is_not_the_administrator_only_reads(pages_admin, pages_operator):
    _create(pages_admin)
    token = ApiToken.objects.get()
    page = pages_operator.get(TOKENS).content.decode()
    assert "只有单位管理员可以新建和吊销接口令牌" in page
    assert token.prefix in page
    assert 'name="scope"' not in page and "确认吊销" not in page
    response = _create(pages_operator, name="偷偷建的")
    assert response.status_code == 403
    assert "只有单位管理员可以管理接口令牌" in response.content.decode()
    assert ApiToken.objects.count() == 1
    response = pages_operator.post(reverse("api:token_revoke", kwargs={"pk": token.pk}))
    assert response.status_code == 403
    token.refresh_from_db()
    assert token.is_active


def test_another_employers_token_is_not_found(pages_admin, pages_other_token):
    response = pages_admin.post(reverse("api:token_revoke", kwargs={"pk": pages_other_token.pk}))
    assert response.status_code == 404
    pages_other_token.refresh_from_db()
    assert pages_other_token.is_active
    assert pages_other_token.prefix not in pages_admin.get(TOKENS).content.decode()
    assert pages_admin.post("/integration/tokens/99999999/revoke/").status_code == 404


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("", "请填写令牌名称"),
        ("   ", "请填写令牌名称"),
        ("人" * 61, "令牌名称最多 60 个字"),
        ("人事\x07系统", "控制字符"),
        ("人事\u202esystem", "控制字符"),
        ("人事\x00系统", "控制字符"),  # refused before the page, by the site's NUL guard
    ],
)
def test_a_hostile_name_is_refused_in_chinese_and_creates_nothing(pages_admin, name, says):
    response = _create(pages_admin, name=name)
    assert response.status_code == 400
    page = response.content.decode()
    assert says in page
    assert 'data-testid="token-secret"' not in page
    assert ApiToken.objects.count() == 0


@pytest.mark.parametrize("scope", ["", "admin", "READ", "read "])
def test_an_unknown_scope_is_refused(pages_admin, scope):
    response = _create(pages_admin, scope=scope)
    assert response.status_code == 400
    assert "请选择令牌权限" in response.content.decode()
    assert ApiToken.objects.count() == 0


def test_the_page_explains_the_limits_and_links_the_docs(pages_admin, settings):
    settings.SHEBAO_API_RATE_PER_MINUTE = 1234
    settings.SHEBAO_API_VALIDATE_PER_DAY = 77
    page = pages_admin.get(TOKENS).content.decode()
    assert "每分钟最多 1234 次请求" in page and "每天最多 77 次" in page
    assert 'href="/api/v1/docs"' in page


def test_the_pages_are_reached_from_the_employers_details_and_the_upload(pages_admin):
    details = pages_admin.get(reverse("web:employer_details")).content.decode()
    assert f'href="{TOKENS}"' in details and f'href="{PRECHECK}"' in details
    upload = pages_admin.get(reverse("batch:upload", kwargs={"code": "enrol"})).content.decode()
    assert f'href="{PRECHECK}?type=enrol"' in upload


def test_a_clerk_does_not_see_the_pages(clerk_client):
    assert clerk_client.get(TOKENS).status_code == 404
    assert clerk_client.get(PRECHECK).status_code == 404


# --- 免费预检 --------------------------------------------------------------------------------


def _precheck(client, data: bytes, filename="增员.xlsx", code="enrol", **header):
    file = SimpleUploadedFile(filename, data, content_type="application/octet-stream")
    return client.post(PRECHECK, {"business_type": code, "file": file, **header})


def _bad_check_char(id_number: str) -> str:
    return id_number[:-1] + ("1" if id_number[-1] != "1" else "2")


def _saved():
    return Transaction.objects.count(), Item.objects.count(), PersonLock.objects.count()


def test_precheck_shows_the_failing_rows_and_saves_nothing(pages_operator):
    good = make_resident_id(serial=1)
    bad = _bad_check_char(make_resident_id(serial=2))
    data = xlsx_bytes([enrol_row(good, 姓名="李四"), enrol_row(bad, 姓名="王五"), enrol_row(good, 姓名="李四")])
    before = _saved()
    response = _precheck(pages_operator, data)
    assert response.status_code == 200
    page = response.content.decode()
    assert _saved() == before
    assert "共 3 行，3 行有错误，0 行仅有提示" in page
    assert "预检不保存任何数据，也不占用人员" in page
    rows = {row.row_no: row for row in response.context["shown_rows"]}
    assert set(rows) == {2, 3, 4}
    assert rows[3].name == "王五" and rows[3].id_number == bad
    assert "ID_CHECKSUM" in [e.code for e in rows[3].errors]
    assert "「证件号码」校验位不正确" in page and "ID_CHECKSUM" in page
    assert all(rows[n].errors for n in (2, 4))  # the same person on two rows
    assert "只在正式提交后的审核中进行" in page
    assert reverse("batch:upload", kwargs={"code": "enrol"}) in page


def test_a_clean_file_says_so(pages_admin):
    data = xlsx_bytes([enrol_row(make_resident_id(serial=5))])
    response = _precheck(pages_admin, data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "共 1 行，0 行有错误，0 行仅有提示" in page and "未发现问题" in page


def test_only_the_first_rows_with_issues_are_listed(pages_admin, monkeypatch):
    from shebao.api import views

    monkeypatch.setattr(views, "ROWS_SHOWN", 2)
    rows = [enrol_row(_bad_check_char(make_resident_id(serial=n))) for n in range(10, 14)]
    response = _precheck(pages_admin, xlsx_bytes(rows))
    assert len(response.context["shown_rows"]) == 2
    assert "共 4 行有问题，仅列出前 2 行" in response.content.decode()


def test_a_file_that_is_no_spreadsheet_is_refused(pages_admin):
    before = _saved()
    response = _precheck(pages_admin, b"MZ\x90\x00 not a spreadsheet at all", filename="setup.exe")
    assert response.status_code == 400
    page = response.content.decode()
    assert "不是表格文件" in page
    assert _saved() == before


@pytest.mark.parametrize("code", ["", "nothing", "ENROL", "<script>", "enrol\u202e"])
def test_an_unknown_type_is_refused(pages_admin, code):
    response = _precheck(pages_admin, xlsx_bytes([enrol_row()]), code=code)
    assert response.status_code == 400
    assert "请选择要预检的业务类型" in response.content.decode()


def test_no_file_is_refused(pages_admin):
    response = pages_admin.post(PRECHECK, {"business_type": "enrol"})
    assert response.status_code == 400
    assert "请点击「浏览」选择要预检的文件" in response.content.decode()


def test_the_page_offers_the_batch_types_and_their_header(pages_admin):
    from shebao.workflow import registry

    page = pages_admin.get(PRECHECK).content.decode()
    for business in registry.all_types():
        assert (f"?type={business.code}" in page or f'value="{business.code}"' in page) == business.batch
    with_header = next((b for b in registry.all_types() if b.batch and b.header_fields), None)
    if with_header is not None:
        page = pages_admin.get(PRECHECK, {"type": with_header.code}).content.decode()
        spec = with_header.header_fields[0]
        assert f'name="{spec.name}"' in page
        assert reverse("batch:template", kwargs={"code": with_header.code}) in page


def test_a_wrong_header_value_is_shown_with_the_rows(pages_admin):
    """申报年度 "26" is no year: the header's issue is listed; the rows are still checked."""
    headers = ["证件类型", "证件号码", "姓名", "上年度月平均工资"]
    rows = [{"证件类型": "居民身份证", "证件号码": _bad_check_char(make_resident_id(serial=7)), "姓名": "赵六"}]
    before = _saved()
    response = _precheck(pages_admin, xlsx_bytes(rows, headers), code="annual_wage", year="26")
    assert response.status_code == 200
    assert response.context["header_errors"]
    page = response.content.decode()
    assert 'data-testid="header-issues"' in page and 'value="26"' in page
    assert "赵六" in page and "ID_CHECKSUM" in page
    assert _saved() == before
