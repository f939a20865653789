"""个人工资年度申报 through the real services and pages: the rules, the window, the audit,
the clerk, the register's new bases and their adjustment lines (补差), computed by hand.

The clock is pinned to 2026-06-15. Rates of the published parameters: 养老 16 % / 8 %,
医疗 8 % / 2 % (示例数据). 2025's and 2026's limits are 4,498 – 22,488 (2026's copied from
2025's as examples, unless a test publishes its own).
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from shebao.business import annual_wage
from shebao.params.models import BaseLimit, DeclarationWindow, MinimumWage, Setting
from shebao.params.services import ParamSnapshot
from shebao.register import assessment
from shebao.register.models import (
    ContributionBase,
    ContributionLine,
    LineKind,
    Rebase,
    RebaseCause,
    Relation,
    RelationStatus,
)
from shebao.workflow import registry, services
from shebao.workflow.models import DeclarationKey, ItemStatus, State, Transaction
from shebao.workflow.rules import messages
from tests.batch.conftest import upload_and_import, xlsx_bytes
from tests.factories import EmployerFactory, OperatorFactory, PersonFactory

pytestmark = pytest.mark.django_db

D = Decimal
YEAR = 2026
JAN = dt.date(YEAR, 1, 1)
MONTHS = [dt.date(YEAR, m, 1) for m in range(1, 7)]  # January to June: lines exist
HEADERS = ["证件类型", "证件号码", "姓名", "上年度月平均工资"]


@pytest.fixture(autouse=True)
def window(params):
    return DeclarationWindow.objects.create(year=YEAR, opens=dt.date(YEAR, 4, 1), closes=dt.date(YEAR, 6, 30))


@pytest.fixture
def vip(office):
    return EmployerFactory(office=office, is_vip=True)


@pytest.fixture
def operator(vip):
    return OperatorFactory(employer=vip)


def contributing(person, employer, *, wage="6000", start=dt.date(2024, 3, 1), end=None, types=("pension", "medical")):
    """A person contributing with the employer since `start`, 2025's wage declared there."""
    for itype in types:
        Relation.objects.create(
            person=person,
            employer=employer,
            insurance_type=itype,
            status=RelationStatus.SUSPENDED if end else RelationStatus.CONTRIBUTING,
            start_month=start,
            end_month=end,
        )
        if start.year <= 2025:
            ContributionBase.objects.create(
                person=person, employer=employer, year=2025, insurance_type=itype, declared_wage=D(wage), base=D(wage)
            )
    return person


def assess():
    for month in MONTHS:
        assessment.assess_month(month, again=True)


def row(person, wage="8000", **extra) -> dict:
    return {"id_type": "01", "id_number": person.id_number, "name": person.name, "wage": wage, **extra}


def save(employer, user, raw, year=str(YEAR), tx=None):
    return services.transaction_save_single(
        employer=employer, actor=user, business_type="annual_wage", raw=raw, header={"year": year}
    )


def declare(employer, user, raw, year=str(YEAR)) -> Transaction:
    result = save(employer, user, raw, year)
    assert result.ok, [i.message() for i in result.issues]
    tx = services.transaction_submit(tx=result.transaction, actor=user, version=result.transaction.version)
    services.run_audit(tx.pk)
    tx.refresh_from_db()
    return tx


def codes(tx) -> set[str]:
    return {i["code"] for item in tx.items.all() for i in (item.audit_issues or item.import_issues)}


def lines(person, kind=LineKind.ADJUSTMENT, itype="pension"):
    return list(
        ContributionLine.objects.filter(person=person, kind=kind, insurance_type=itype, voided_by__isnull=True)
        .order_by("month")
        .values_list("month", "base", "employer_amount", "personal_amount")
    )


# --- the header: 申报年度 and its window -----------------------------------------------------


def test_the_declared_year_must_be_a_year_and_its_window_open(vip, operator, window):
    person = contributing(PersonFactory(), vip)
    refused = save(vip, operator, row(person), year="26")
    assert not refused.ok and [i.code for i in refused.issues] == ["WAGE_YEAR_INVALID"]
    unset = save(vip, operator, row(person), year="2027")
    assert [i.message() for i in unset.issues] == [
        "2027 年度个人工资年度申报的受理期尚未公布，暂不能办理，请关注经办机构通知。"
    ]
    DeclarationWindow.objects.create(year=2027, opens=dt.date(2027, 4, 1), closes=dt.date(2027, 6, 30))
    early = save(vip, operator, row(person), year="2027")
    assert "2027-04-01 至 2027-06-30，尚未开始，请于 2027-04-01 起办理" in early.issues[0].message()
    window.closes = dt.date(YEAR, 5, 31)
    window.save()
    late = save(vip, operator, row(person))
    assert (
        late.issues[0].code == "WAGE_WINDOW_CLOSED" and "2026-04-01 至 2026-05-31，已经截止" in late.issues[0].message()
    )
    assert not Transaction.objects.filter(business_type="annual_wage").exists()


def test_a_year_typed_in_full_width_digits_is_that_year(params):
    result = registry.get("annual_wage").check_header({"year": "２０２６"}, ParamSnapshot.load())
    assert result.data["year"] == "2026" and result.issues == []


# --- row rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wage", "code"),
    [
        ("0", "MONEY_POSITIVE"),
        ("-5000", "MONEY_POSITIVE"),
        ("NaN", "MONEY_FORMAT"),
        ("六千", "MONEY_FORMAT"),
        ("1e400", "MONEY_FORMAT"),
        ("", "REQUIRED"),
    ],
)
def test_a_wage_that_is_not_a_positive_amount_is_refused(params, wage, code):
    business = registry.get("annual_wage")
    result = business.check_row({"year": "2026", **row(PersonFactory.build(), wage)}, params)
    assert code in [i.code for i in result.issues]
    assert any(i.code == code and i.field == "wage" for i in result.issues)


def test_below_the_floor_and_above_the_ceiling_warn_and_clamp_or_refuse_by_parameter(params):
    business = registry.get("annual_wage")
    person = PersonFactory.build()
    low = business.check_row({"year": "2026", **row(person, "3000")}, params)
    assert [(i.code, i.message()) for i in low.issues] == [
        (
            "WAGE_BELOW_FLOOR",
            "「上年度月平均工资」3000.00 元低于 2026 年缴费基数下限 4498.00 元，按下限 4498.00 元核定。",
        )
    ]
    high = business.check_row({"year": "2026", **row(person, "30000")}, params)
    assert [i.code for i in high.issues] == ["WAGE_ABOVE_CEILING"]
    Setting.objects.create(key="wage_out_of_range_is_error", value=1, effective_from=dt.date(2020, 1, 1))
    strict = business.check_row({"year": "2026", **row(person, "30000")}, ParamSnapshot.load())
    assert [i.code for i in strict.issues] == ["WAGE_OUT_OF_RANGE"] and strict.issues[0].is_error


# --- the audit ---------------------------------------------------------------------------------


def test_a_person_not_contributing_here_in_the_year_is_refused_without_revealing_another_employers_data(
    vip, operator, other_employer
):
    stranger = contributing(PersonFactory(), other_employer)
    left = contributing(PersonFactory(), vip, start=dt.date(2023, 1, 1), end=dt.date(2025, 7, 1))
    for person in (stranger, left):
        tx = declare(vip, operator, row(person))
        assert tx.state == State.RETURNED and codes(tx) == {"WAGE_NOT_CONTRIBUTING"}
        assert "该人员 2026 年度未在本单位参保缴费" in messages(tx.return_reasons)[0]


def test_below_the_minimum_wage_warns_except_part_time_and_refuses_by_parameter(vip, operator):
    full = contributing(PersonFactory(), vip)
    part = contributing(PersonFactory(employment_form="part_time"), vip)
    warned = declare(vip, operator, row(full, "1900"))
    assert warned.state == State.FINISHED and "WAGE_BELOW_MINIMUM" in codes(warned)
    item = warned.items.get()
    assert "「上年度月平均工资」1900.00 元低于本地区最低工资标准 2010.00 元，请核对。" in messages(item.audit_issues)
    assert "WAGE_BELOW_MINIMUM" not in codes(declare(vip, operator, row(part, "1900")))
    # Another tier, and the parameter that makes it an error.
    vip.wage_tier = 4
    vip.save()
    assert "WAGE_BELOW_MINIMUM" not in codes(declare(vip, operator, row(contributing(PersonFactory(), vip), "1600")))
    Setting.objects.create(key="minimum_wage_is_error", value=1, effective_from=dt.date(2020, 1, 1))
    MinimumWage.objects.create(tier=4, monthly=D("1700"), effective_from=dt.date(2025, 1, 1))
    refused = declare(vip, operator, row(contributing(PersonFactory(), vip), "1600"))
    assert refused.state == State.RETURNED and codes(refused) >= {"WAGE_BELOW_MINIMUM_REFUSED"}


# --- the effect: bases and adjustment lines ------------------------------------------------------


def test_a_rising_base_adds_the_difference_for_every_month_already_charged(vip, operator):
    person = contributing(PersonFactory(), vip)
    assess()
    # January to June charged on 6,000: 养老 960.00 / 480.00 a month.
    assert {line[1:] for line in lines(person, LineKind.REGULAR)} == {(D("6000.00"), D("960.00"), D("480.00"))}
    tx = declare(vip, operator, row(person, "8000"))
    assert tx.state == State.FINISHED
    bases = ContributionBase.objects.filter(person=person, employer=vip, year=YEAR)
    assert {(b.insurance_type, b.declared_wage, b.base, b.transaction_id) for b in bases} == {
        ("pension", D("8000.00"), D("8000.00"), tx.pk),
        ("medical", D("8000.00"), D("8000.00"), tx.pk),
    }
    # fen(8000 × 16 %) − 960 = 320 and fen(8000 × 8 %) − 480 = 160, each month.
    assert lines(person) == [(m, D("8000.00"), D("320.00"), D("160.00")) for m in MONTHS]
    # 医疗 8 % / 2 %: 640 − 480 = 160 and 160 − 120 = 40.
    assert lines(person, itype="medical") == [(m, D("8000.00"), D("160.00"), D("40.00")) for m in MONTHS]
    assert ContributionLine.objects.filter(kind=LineKind.ADJUSTMENT, transaction=tx).count() == 12
    # July is charged on the new base.
    assessment.assess_month(dt.date(YEAR, 7, 1))
    july = ContributionLine.objects.get(person=person, month=dt.date(YEAR, 7, 1), insurance_type="pension")
    assert (july.base, july.employer_amount) == (D("8000.00"), D("1280.00"))
    # The audit recorded the old and new bases on the row (the clerk, the printed form).
    data = tx.items.get().data
    assert (data["old_pension"], data["new_pension"], data["old_base"], data["new_base"]) == (
        "6000.00",
        "8000.00",
        "6000.00",
        "8000.00",
    )


@pytest.mark.parametrize(
    ("refund", "expected"), [(0, []), (1, [(m, D("4498.00"), D("-240.32"), D("-120.16")) for m in MONTHS])]
)
def test_a_falling_base_is_dropped_or_refunded_by_parameter(vip, operator, refund, expected):
    if refund:
        Setting.objects.create(key="refund_negative_adjustment", value=1, effective_from=dt.date(2020, 1, 1))
    person = contributing(PersonFactory(), vip)
    assess()
    tx = declare(vip, operator, row(person, "3000"))  # clamped to the floor 4,498
    assert tx.state == State.FINISHED and "WAGE_BELOW_FLOOR" in codes(tx)
    assert ContributionBase.objects.get(person=person, year=YEAR, insurance_type="pension").base == D("4498.00")
    # fen(4498 × 16 %) − 960 = 719.68 − 960 = −240.32; fen(4498 × 8 %) − 480 = −120.16.
    assert lines(person) == expected


def test_a_re_declaration_corrects_the_earlier_one_and_never_charges_twice(vip, operator):
    person = contributing(PersonFactory(), vip)
    assess()
    declare(vip, operator, row(person, "8000"))
    again = declare(vip, operator, row(person, "9000"))
    assert again.state == State.FINISHED
    # The second declaration charges only what is left: fen(9000 × 16 %) − (960 + 320) = 160.
    assert sorted(line[:3] for line in lines(person)) == sorted(
        [(m, D("8000.00"), D("320.00")) for m in MONTHS] + [(m, D("9000.00"), D("160.00")) for m in MONTHS]
    )
    total = sum(line[2] for line in lines(person)) + sum(line[2] for line in lines(person, LineKind.REGULAR))
    assert total == 6 * D("1440.00")


def test_a_person_enrolled_after_the_base_month_keeps_the_enrolment_base(vip, operator):
    person = contributing(PersonFactory(), vip, start=dt.date(YEAR, 3, 1))
    ContributionBase.objects.create(
        person=person, employer=vip, year=YEAR, insurance_type="pension", declared_wage=D("5000"), base=D("5000")
    )
    assess()
    tx = declare(vip, operator, row(person, "9000"))
    assert tx.state == State.FINISHED and "WAGE_ENROLLED_AFTER_BASE_MONTH" in codes(tx)
    item = tx.items.get()
    assert "2026-03 起在本单位参保，晚于 2026 年度缴费基数起始月 2026-01" in " ".join(messages(item.audit_issues))
    assert ContributionBase.objects.get(person=person, year=YEAR, insurance_type="pension").base == D("5000")
    assert lines(person) == []


def test_the_base_month_parameter_starts_the_adjustments_there(vip, operator):
    Setting.objects.create(key="base_from_month", value=4, effective_from=dt.date(2020, 1, 1))
    person = contributing(PersonFactory(), vip)
    assess()
    declare(vip, operator, row(person, "8000"))
    assert [line[0] for line in lines(person)] == MONTHS[3:]


def test_a_suspended_person_gets_adjustments_only_for_the_months_charged(vip, operator):
    person = contributing(PersonFactory(), vip, end=dt.date(YEAR, 4, 1))  # last month March
    assess()
    tx = declare(vip, operator, row(person, "8000"))
    assert tx.state == State.FINISHED
    assert [line[0] for line in lines(person)] == MONTHS[:3]


def test_a_person_who_moved_between_employers_is_declared_by_both(vip, operator, office):
    other = EmployerFactory(office=office, is_vip=True)
    other_operator = OperatorFactory(employer=other)
    person = contributing(PersonFactory(), vip, end=dt.date(YEAR, 4, 1))
    contributing(person, other, start=dt.date(YEAR, 4, 1), wage="7000")
    ContributionBase.objects.create(
        person=person, employer=other, year=YEAR, insurance_type="pension", declared_wage=D(7000), base=D(7000)
    )
    assess()
    # Both declarations open at once: the key is employer + person + year.
    first = save(vip, operator, row(person, "8000"))
    second = save(other, other_operator, row(person, "9000"))
    assert first.ok and second.ok
    assert DeclarationKey.objects.count() == 2
    for result, user in ((first, operator), (second, other_operator)):
        tx = services.transaction_submit(tx=result.transaction, actor=user, version=result.transaction.version)
        services.run_audit(tx.pk)
    # At the first employer January to March are adjusted; at the second, enrolled in April
    # (after the base month), its enrolment base stays.
    assert [line[0] for line in lines(person)] == MONTHS[:3]
    assert not ContributionLine.objects.filter(employer=other, kind=LineKind.ADJUSTMENT).exists()


def test_one_open_declaration_per_employer_person_and_year_names_its_serial(vip, operator):
    person = contributing(PersonFactory(), vip)
    first = save(vip, operator, row(person))
    again = save(vip, operator, row(person, "9000"))
    assert not again.ok
    assert [i.message() for i in again.issues] == [
        f"该人员 2026 年度已有未办结的同类申报，流水号 {first.transaction.serial}。"
    ]


# --- the clerk -----------------------------------------------------------------------------------


def test_an_ordinary_employers_declaration_goes_to_a_clerk_who_sees_old_and_new_base(
    ordinary_employer, office, clerk_client, clerk
):
    user = OperatorFactory(employer=ordinary_employer)
    person = contributing(PersonFactory(), ordinary_employer)
    assess()
    tx = declare(ordinary_employer, user, row(person, "3000"))
    assert tx.state == State.REVIEW and not lines(person)
    page = clerk_client.get(reverse("backoffice:detail", kwargs={"pk": tx.pk})).content.decode()
    for text in (
        "个人工资年度申报",
        "申报年度",
        "原缴费基数",
        "新缴费基数",
        "6000.00",
        "4498.00",
        "按下限 4498.00 元核定",
    ):
        assert text in page, text
    services.clerk_approve(tx=tx, clerk=clerk, version=tx.version)
    tx.refresh_from_db()
    assert tx.state == State.FINISHED
    assert ContributionBase.objects.get(person=person, year=YEAR, insurance_type="pension").base == D("4498.00")


# --- the pages -------------------------------------------------------------------------------------


def test_single_entry_searches_the_employers_contributing_persons_and_previews_the_change(
    vip, operator, operator_client, other_employer
):
    person = contributing(PersonFactory(name="周晓明"), vip)
    stranger = contributing(PersonFactory(name="周大伟"), other_employer)
    client = operator_client(vip, operator)
    url = reverse("web:single_new", kwargs={"code": "annual_wage"})
    found = client.get(url, {"q": "周"}).content.decode()
    assert person.id_number in found and stranger.id_number not in found and f"?person={person.pk}" in found
    assert client.get(url, {"person": stranger.pk}).status_code == 404
    filled = client.get(url, {"person": person.pk}).content.decode()
    assert f'value="{person.id_number}"' in filled and 'value="2026"' in filled
    check = client.post(
        reverse("web:check_fields", kwargs={"code": "annual_wage"}), {"year": "2026", **row(person, "8000")}
    ).json()
    rows = check["previews"]["change"]["rows"]
    assert rows[0] == {
        "insurance": "养老",
        "old": "6000.00",
        "new": "8000.00",
        "employer": "+320.00",
        "personal": "+160.00",
    }
    assert check["previews"]["change"]["totals"] == {"employer": "+480.00", "personal": "+200.00"}


def test_a_finished_declaration_still_shows_the_old_and_new_base_it_applied(vip, operator, operator_client):
    person = contributing(PersonFactory(), vip)
    tx = declare(vip, operator, row(person, "8000"))
    assert tx.state == State.FINISHED
    page = operator_client(vip, operator).get(reverse("web:tx_detail", kwargs={"pk": tx.pk})).content.decode()
    preview = page.split('id="change-preview"', 1)[1].split("</table>", 1)[0]
    assert "6000.00" in preview and "8000.00" in preview and "+320.00" in preview


def test_submit_lists_the_persons_not_declared_yet_as_a_warning(vip, operator, operator_client):
    declared = contributing(PersonFactory(name="陈一"), vip)
    contributing(PersonFactory(name="陈二"), vip)
    contributing(PersonFactory(name="陈三"), vip)
    client = operator_client(vip, operator)
    tx = save(vip, operator, row(declared)).transaction
    response = client.post(
        reverse("web:tx_action", kwargs={"pk": tx.pk}), {"action": "submit", "version": tx.version}, follow=True
    )
    page = response.content.decode()
    assert "本单位 2026 年度参保缴费的人员中尚有 2 人未申报：陈二、陈三" in page
    tx.refresh_from_db()
    assert tx.state != State.SAVED


def test_the_template_is_pre_filled_and_comes_back_as_a_batch(vip, operator, operator_client):
    persons = [contributing(PersonFactory(), vip) for _ in range(3)]
    gone = contributing(PersonFactory(), vip, start=dt.date(2023, 1, 1), end=dt.date(2025, 1, 1))
    client = operator_client(vip, operator)
    response = client.get(reverse("batch:template", kwargs={"code": "annual_wage"}))
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:5] == ("证件类型", "证件号码", "姓名", "上年度月平均工资", "现缴费基数")
    ids = {r[1] for r in values[1:]}
    assert ids == {p.id_number for p in persons} and gone.id_number not in ids
    assert all(r[0] == "居民身份证" and r[3] is None and r[4] == "6000.00" for r in values[1:])
    guide = " ".join(str(c) for r in book.worksheets[1].iter_rows(values_only=True) for c in r if c)
    assert "本模板已预填本单位 2026 年度参保缴费的人员" in guide and "工资总额除以 6" in guide
    # The employer types the wages and uploads the same workbook.
    for n, r in enumerate(sheet.iter_rows(min_row=2), start=0):
        r[3].value = str(7000 + n)
    out = io.BytesIO()
    book.save(out)
    tx = upload_and_import(client, out.getvalue(), code="annual_wage", filename="工资.xlsx", year="2026")
    assert (tx.state, tx.total_count, tx.import_failed_count, tx.header) == (State.SAVED, 3, 0, {"year": "2026"})
    tx = services.transaction_submit(tx=tx, actor=operator, version=tx.version)
    services.run_audit(tx.pk)
    tx.refresh_from_db()
    assert tx.state == State.FINISHED and tx.audit_passed_count == 3
    assert sorted(
        ContributionBase.objects.filter(year=YEAR, insurance_type="pension").values_list("base", flat=True)
    ) == [D("7000.00"), D("7001.00"), D("7002.00")]


def test_a_person_twice_in_a_file_fails_on_every_such_row(vip, operator, operator_client):
    person = contributing(PersonFactory(), vip)
    cells = {"证件类型": "居民身份证", "证件号码": person.id_number, "姓名": person.name}
    data = xlsx_bytes([{**cells, "上年度月平均工资": "7000"}, {**cells, "上年度月平均工资": "8000"}], HEADERS)
    tx = upload_and_import(operator_client(vip, operator), data, code="annual_wage", filename="工资.xlsx", year="2026")
    failed = tx.items.filter(status=ItemStatus.IMPORT_FAILED)
    assert failed.count() == 2 and all(
        "DUPLICATE_IN_FILE" in {i["code"] for i in item.import_issues} for item in failed
    )


def test_the_export_lists_old_and_new_base_per_insurance_type_with_totals(vip, operator, operator_client):
    first, second = (contributing(PersonFactory(), vip) for _ in range(2))
    client = operator_client(vip, operator)
    cells = [
        {"证件类型": "居民身份证", "证件号码": p.id_number, "姓名": p.name, "上年度月平均工资": wage}
        for p, wage in ((first, "8000"), (second, "9000"))
    ]
    tx = upload_and_import(client, xlsx_bytes(cells, HEADERS), code="annual_wage", filename="工资.xlsx", year="2026")
    tx = services.transaction_submit(tx=tx, actor=operator, version=tx.version)
    services.run_audit(tx.pk)
    response = client.get(reverse("exports:form", kwargs={"pk": tx.pk, "fmt": "xlsx"}))
    content = b"".join(response.streaming_content) if response.streaming else response.content
    rows = list(openpyxl.load_workbook(io.BytesIO(content)).worksheets[0].iter_rows(values_only=True))
    assert "社会保险缴费工资申报表" in str(rows[0][0])
    header = next(r for r in rows if r[0] == "序号")
    assert header[:5] == ("序号", "姓名", "证件号码", "上年度月平均工资", "原缴费基数")
    person_row = next(r for r in rows if first.id_number in r)
    # 上年度月平均工资, then 养老 原/新, 医疗 原/新; the types the person does not have are blank.
    assert person_row[3:8] == (8000, 6000, 8000, 6000, 8000) and person_row[8] is None
    total = next(r for r in rows if str(r[0]).startswith("合计"))
    assert total[3:8] == (17000, 12000, 17000, 12000, 17000)
    pdf = client.get(reverse("exports:form", kwargs={"pk": tx.pk, "fmt": "pdf"}))
    assert pdf.status_code == 200


# --- 沿用 at the window's close ------------------------------------------------------------------


@pytest.mark.clock("2026-07-02T02:00:00Z")
def test_carry_over_at_window_close_re_clamps_last_years_wage_to_the_new_limits(vip, operator):
    for itype in ("pension", "medical"):
        BaseLimit.objects.create(
            year=YEAR,
            insurance_type=itype,
            average_wage=D(8000),
            floor=D(7000),
            ceiling=D(24000),
            effective_from=dt.date(YEAR, 2, 1),
        )
    undeclared = contributing(PersonFactory(), vip)  # 2025: 6,000
    # Also declared this year at another employer: that base is not this employer's.
    ContributionBase.objects.create(
        person=undeclared,
        employer=EmployerFactory(),
        year=YEAR,
        insurance_type="pension",
        declared_wage=D(9000),
        base=D(9000),
    )
    declared = contributing(PersonFactory(), vip)
    ContributionBase.objects.create(
        person=declared, employer=vip, year=YEAR, insurance_type="pension", declared_wage=D(9000), base=D(9000)
    )
    assess()
    assert annual_wage.carry_over_job() == "2026: 1"
    base = ContributionBase.objects.get(person=undeclared, employer=vip, year=YEAR, insurance_type="pension")
    assert (base.declared_wage, base.base, base.carried_over, base.transaction_id) == (
        D("6000.00"),
        D("7000.00"),
        True,
        None,
    )
    rebase = Rebase.objects.get(cause=RebaseCause.CARRY_OVER, year=YEAR)
    # The months were charged on 7,000 already (the year's limits were in force): nothing to add.
    assert rebase.state == "finished" and lines(undeclared) == []
    # Running it again finds nobody.
    assert annual_wage.carry_over_job() == "2026: 0"
    assert ContributionBase.objects.get(person=declared, year=YEAR, insurance_type="pension").base == D("9000")
