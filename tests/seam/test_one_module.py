"""A business type is one module: the pages, batch, exports, the back office and the engine
name none, and a type defined only here, in the test suite, is offered everywhere a real one
is (menu, single form, template, batch upload, failure lists, result query, export, clerk
review) with no other file changed."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pytest
from django.urls import reverse
from django.utils.translation import gettext_noop

from shebao.core.choices import IdType
from shebao.register.models import Person
from shebao.workflow import registry
from shebao.workflow import services as engine
from shebao.workflow.fields import FieldSpec, RowResult, normalise_row
from shebao.workflow.models import DeclarationKey, Item, ItemStatus, State, Transaction
from shebao.workflow.printing import Column, PrintForm, seq_name_id
from shebao.workflow.registry import BusinessType, Locking, Names
from shebao.workflow.rules import RULES, E, Issue, Rule
from tests.factories import EmployerFactory, PersonFactory, make_resident_id

ROOT = Path(__file__).resolve().parents[2] / "shebao"
GENERIC_APPS = ["web", "batch", "exports", "backoffice", "workflow", "api"]


def _sources():
    for app in GENERIC_APPS:
        for path in sorted((ROOT / app).rglob("*")):
            if path.suffix in (".py", ".html", ".js", ".css", ".txt") and "migrations" not in path.parts:
                yield path


@pytest.mark.django_db
def test_no_business_type_is_named_outside_its_module():
    codes = [b.code for b in registry.all_types()]
    assert {"enrol", "suspend"} <= set(codes)
    found = []
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        for code in codes:
            for match in re.finditer(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {code}")
    assert not found, "business type codes outside shebao/business:\n" + "\n".join(found)


def test_the_scan_sees_the_templates_and_scripts():
    """The scan above would pass on an empty folder: it reads the pages and the script."""
    names = {p.name for p in _sources()}
    assert {"views.py", "_data_form.html", "tx_detail.html", "form.js", "registry.py"} <= names


# --- a business type of the test suite ---------------------------------------------------------

CODE = "contact_check"


def _print_row(item, seq: int) -> dict:
    return {**seq_name_id(item, seq), "phone": (item.data or {}).get("phone", "")}


class ContactCheck(BusinessType):
    """年度联系电话核对: the employer confirms each employee's phone for a year; the register
    takes the new number. A declaration per person and year (header field 申报年度)."""

    code = CODE
    names = Names(
        title=gettext_noop("年度联系电话核对"),
        result_query=gettext_noop("年度联系电话核对审核结果查询"),
        single_export=gettext_noop("导出核对表"),
        batch_export=gettext_noop("导出核对表"),
    )
    header_fields = [FieldSpec("year", gettext_noop("申报年度"), "text", True, max_length=4, help="如 2026")]
    fields = [
        FieldSpec("id_type", gettext_noop("证件类型"), "id_type", True, IdType, default="01"),
        FieldSpec("id_number", gettext_noop("证件号码"), "id_number", True, text_format=True),
        FieldSpec("name", gettext_noop("姓名"), "name", True, max_length=50),
        FieldSpec("phone", gettext_noop("联系电话"), "phone", True, text_format=True),
    ]
    rules = [
        Rule("CONTACT_NOT_INSURED", E, "该证件号码在参保登记中不存在，不能核对联系电话。"),
        Rule("CONTACT_YEAR", E, "「申报年度」应为 2000 至 2100 之间的年份。"),
    ]
    print_form = PrintForm(
        title_msgid="联系电话核对表",
        row=_print_row,
        columns=(
            Column("seq", "序号", 10),
            Column("name", "姓名", 30),
            Column("id_number", "证件号码", 50),
            Column("phone", "联系电话", 40),
        ),
    )
    materials = ["联系电话核对表（加盖单位公章）"]
    batch = True
    review_for_ordinary = True
    locking = Locking.DECLARATION

    def check_header(self, raw, params) -> RowResult:
        result = normalise_row(self.header_fields, raw)
        year = result.data.get("year", "")
        if year and not (year.isdigit() and 2000 <= int(year) <= 2100):
            result.issues.append(Issue("CONTACT_YEAR", "year"))
        return result

    def declaration_key(self, header, data, employer_id=None):
        key = f"{data.get('id_type', '01')}{data.get('id_number', '')}"
        return f"{CODE}:{header.get('year', '')}:{key}" if data.get("id_number") else None

    def audit(self, tx, items, ctx):
        known = set(Person.objects.filter(id_key__in=[i.id_key for i in items]).values_list("id_key", flat=True))
        return {i.pk: ([] if i.id_key in known else [Issue("CONTACT_NOT_INSURED", "id_number")]) for i in items}

    def apply(self, tx, items, ctx):
        for item in items:
            Person.objects.filter(id_key=item.id_key).update(phone=item.data["phone"])

    def summary(self, data):
        return data.get("phone", "")


@pytest.fixture
def contact_check(db):
    registry.register(ContactCheck)
    yield registry.get(CODE)
    registry.unregister(CODE)


@pytest.fixture
def people(db):
    return PersonFactory.create_batch(3, phone="13800000000")


@pytest.fixture
def ordinary(params, office, operator_client):
    employer = EmployerFactory(office=office, is_vip=False)
    return operator_client(employer)


def _html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _xlsx(response):
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]


def test_a_type_of_the_test_suite_joins_the_catalogue_and_leaves_with_it(contact_check):
    assert RULES["CONTACT_NOT_INSURED"].severity == E
    assert (CODE, "年度联系电话核对") in registry.choices()
    registry.unregister(CODE)
    assert "CONTACT_NOT_INSURED" not in RULES and CODE not in dict(registry.choices())
    registry.register(ContactCheck)  # for the fixture's teardown


def test_menu_landing_and_single_form(contact_check, ordinary):
    home = _html(ordinary.get(reverse("web:home")))
    assert reverse("web:business", kwargs={"code": CODE}) in home and "年度联系电话核对" in home
    landing = _html(ordinary.get(reverse("web:business", kwargs={"code": CODE})))
    for text in ("单个办理", "批量办理", "模板下载", "年度联系电话核对审核结果查询"):
        assert text in landing
    form = _html(ordinary.get(reverse("web:single_new", kwargs={"code": CODE})))
    assert "申报信息" in form and 'name="year"' in form and 'name="phone"' in form
    assert 'name="make_card"' not in form and "photo" not in form.split("<form", 1)[1]


def test_single_entry_carries_its_header_holds_its_declaration_key_and_is_reviewed_by_a_clerk(
    contact_check, ordinary, people, clerk_client
):
    person = people[0]
    url = reverse("web:single_new", kwargs={"code": CODE})
    row = {"id_type": "01", "id_number": person.id_number, "name": person.name, "phone": "027-85551234"}
    # A header error is shown like a field error; nothing is saved.
    refused = ordinary.post(url, {**row, "year": "1999"})
    assert refused.status_code == 422 and "「申报年度」应为 2000 至 2100 之间的年份。" in refused.content.decode()
    assert not Transaction.objects.filter(business_type=CODE).exists()
    saved = ordinary.post(url, {**row, "year": "2026"})
    assert saved.status_code == 302
    tx = Transaction.objects.get(business_type=CODE)
    assert tx.header == {"year": "2026"} and tx.items.get().data["phone"] == "027-85551234"
    assert list(DeclarationKey.objects.filter(transaction=tx).values_list("key", flat=True)) == [
        f"{CODE}:2026:01{person.id_number}"
    ]
    # The same person and year again: the open declaration refuses it.
    again = ordinary.post(url, {**row, "year": "2026"})
    assert again.status_code == 422 and tx.serial in again.content.decode()
    page = _html(ordinary.get(reverse("web:tx_detail", kwargs={"pk": tx.pk})))
    assert 'value="2026"' in page and "导出核对表" in page
    ordinary.post(reverse("web:tx_action", kwargs={"pk": tx.pk}), {"action": "submit", "version": tx.version})
    engine.run_audit(tx.pk)
    tx.refresh_from_db()
    assert tx.state == State.REVIEW
    # The materials the type declares, for an ordinary employer.
    assert "联系电话核对表（加盖单位公章）" in _html(ordinary.get(reverse("web:tx_detail", kwargs={"pk": tx.pk})))
    # The clerk sees the header and the row, and approves: the effect applies, the key goes.
    desk = _html(clerk_client.get(reverse("backoffice:detail", kwargs={"pk": tx.pk})))
    assert "年度联系电话核对" in desk and "申报年度" in desk and "027-85551234" in desk
    clerk_client.post(reverse("backoffice:approve", kwargs={"pk": tx.pk}), {"version": tx.version})
    tx.refresh_from_db()
    person.refresh_from_db()
    assert tx.state == State.FINISHED and person.phone == "027-85551234"
    assert not DeclarationKey.objects.filter(transaction=tx).exists()
    sheet = _xlsx(ordinary.get(reverse("exports:form", kwargs={"pk": tx.pk, "fmt": "xlsx"})))
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert "联系电话核对表" in cells[0] and person.id_number in cells and "027-85551234" in cells


def test_template_batch_upload_failure_list_result_query_and_export(contact_check, ordinary, people):
    from tests.batch.conftest import run_import

    template = _xlsx(ordinary.get(reverse("batch:template", kwargs={"code": CODE})))
    headers = [c for c in next(template.iter_rows(values_only=True)) if c]
    assert headers == ["证件类型", "证件号码", "姓名", "联系电话"]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for n, person in enumerate(people):
        sheet.append(["居民身份证", person.id_number, person.name, f"1390000000{n}"])
    stranger = make_resident_id(__import__("datetime").date(1990, 3, 7), "1", 77)
    sheet.append(["居民身份证", stranger, "赵六", "13900000009"])
    sheet.append(["居民身份证", "123", "钱七", "13900000008"])  # fails the import
    out = io.BytesIO()
    book.save(out)
    upload_page = _html(ordinary.get(reverse("batch:upload", kwargs={"code": CODE})))
    assert 'name="year"' in upload_page and "申报年度" in upload_page
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = ordinary.post(
        reverse("batch:upload", kwargs={"code": CODE}),
        {"file": SimpleUploadedFile("核对.xlsx", out.getvalue()), "year": "2026"},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    tx = run_import(Transaction.objects.get(business_type=CODE))
    assert (tx.state, tx.total_count, tx.import_failed_count, tx.header) == (State.SAVED, 5, 1, {"year": "2026"})
    assert DeclarationKey.objects.filter(transaction=tx).count() == 4
    failures = _xlsx(ordinary.get(reverse("batch:failures", kwargs={"pk": tx.pk, "kind": "import"})))
    assert "123" in [str(c) for row in failures.iter_rows(values_only=True) for c in row if c is not None]
    ordinary.post(reverse("batch:action", kwargs={"pk": tx.pk}), {"action": "submit", "version": tx.version})
    engine.run_audit(tx.pk)
    tx.refresh_from_db()
    assert (tx.state, tx.audit_passed_count, tx.audit_failed_count) == (State.REVIEW, 3, 1)
    audit = _xlsx(ordinary.get(reverse("batch:failures", kwargs={"pk": tx.pk, "kind": "audit"})))
    texts = [str(c) for row in audit.iter_rows(values_only=True) for c in row if c is not None]
    assert stranger in texts and any("该证件号码在参保登记中不存在" in t for t in texts)
    results = _html(ordinary.get(reverse("batch:results", kwargs={"code": CODE})))
    assert "年度联系电话核对审核结果查询" in results and tx.serial in results
    detail = _html(ordinary.get(reverse("batch:detail", kwargs={"pk": tx.pk})))
    assert "导出核对表" in detail
    sheet = _xlsx(ordinary.get(reverse("exports:form", kwargs={"pk": tx.pk, "fmt": "xlsx"})))
    printed = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert all(p.id_number in printed for p in people)
    pdf = ordinary.get(reverse("exports:form", kwargs={"pk": tx.pk, "fmt": "pdf"}))
    assert pdf.status_code == 200
    content = b"".join(pdf.streaming_content) if pdf.streaming else pdf.content
    assert content.startswith(b"%PDF")
    assert Item.objects.filter(transaction=tx, status=ItemStatus.IMPORTED).count() == 4


def test_a_preview_that_raises_leaves_the_form_and_its_live_check_working(contact_check, ordinary, monkeypatch):
    from shebao.workflow.registry import Preview, PreviewColumn, Section

    def broken(params, data, employer):
        raise RuntimeError("a preview's own bug")

    preview = Preview("broken", "试算", (PreviewColumn("a", "甲"),), compute=broken)
    monkeypatch.setattr(ContactCheck, "previews", [preview])
    monkeypatch.setattr(ContactCheck, "sections", [Section("个人信息录入", ("id_number",), preview="broken")])
    page = ordinary.get(reverse("web:single_new", kwargs={"code": CODE}))
    assert page.status_code == 200 and 'data-preview="broken"' in page.content.decode()
    check = ordinary.post(reverse("web:check_fields", kwargs={"code": CODE}), {"year": "2026", "phone": "1"})
    assert check.status_code == 200 and check.json()["previews"] == {}


def test_the_api_offers_a_type_of_the_test_suite(contact_check, people, vip_employer):
    """/api/v1/ has no code per type: the suite's type is listed with its fields, pre-checked,
    saved and uploaded through the same operations as the product's own types."""
    import json

    from django.test import Client

    from shebao.api import tokens
    from tests.factories import OperatorFactory

    admin = OperatorFactory(employer=vip_employer)
    secret = tokens.token_create(employer=vip_employer, actor=admin, name="HR", scope="write").secret
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    listed = {t["code"]: t for t in client.get("/api/v1/types").json()}
    assert [f["name"] for f in listed[CODE]["fields"]] == ["id_type", "id_number", "name", "phone"]
    assert [f["name"] for f in listed[CODE]["header_fields"]] == ["year"]
    person = people[0]
    row = {"id_number": person.id_number, "name": person.name, "phone": "13912345678"}
    checked = client.post(
        f"/api/v1/{CODE}/validate",
        json.dumps({"header": {"year": "1999"}, "rows": [row]}),
        content_type="application/json",
    ).json()
    assert [i["code"] for i in checked["header_issues"]] == ["CONTACT_YEAR"]
    saved = client.post(
        f"/api/v1/{CODE}/transactions",
        json.dumps({"header": {"year": "2026"}, "row": row}),
        content_type="application/json",
    )
    assert saved.status_code == 201, saved.content
    assert DeclarationKey.objects.filter(key=f"{CODE}:2026:01{person.id_number}").exists()
    template = client.get(f"/api/v1/{CODE}/template")
    assert _xlsx(template)["A1"].value is not None
