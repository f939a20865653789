"""退休人员待遇申报 through the real services: the rules, the review routing, the estimate
(测算) against hand computations over register histories built here, and the effect on the
register (relations ended from the month after 退休年月, the retiree and its benefit items).

The clock is pinned to 2026-06-15 (China). The world of the estimate tests:
- 计发基数 2026: 8,000 yuan (the only row);
- the pension average wage: 5,000 for 2010–2022 (rows created here), 7,496 from 2023 (the
  illustrative limits of the `params` fixture);
- 记账利率: 0 for 2010–2024, 3 % in 2025, 2 % in 2026 (the only rows);
- personal pension rate 8 %; 过渡系数 1.3 % and 视同缴费指数 1.0 (the defaults).
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import ROUND_HALF_UP, Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from shebao.business import retiree_benefit
from shebao.core.errors import ApplicationError
from shebao.core.scans import check_scan
from shebao.params.models import AccountInterest, BaseLimit, MinimumContribution, PensionBase
from shebao.params.services import ParamSnapshot
from shebao.register.models import (
    ContributionLine,
    LineKind,
    Relation,
    RelationStatus,
    Retiree,
    RetireeBenefit,
)
from shebao.workflow import materials, registry, services
from shebao.workflow.models import State, Transaction
from tests.batch.conftest import upload_and_import, xlsx_bytes
from tests.factories import EmployerFactory, OperatorFactory, PersonFactory

pytestmark = pytest.mark.django_db

D = Decimal
CODE = "retiree_benefit"


def fen(value: Decimal) -> Decimal:
    return value.quantize(D("0.01"), rounding=ROUND_HALF_UP)


@pytest.fixture
def world(params):
    PensionBase.objects.all().delete()
    PensionBase.objects.create(year=2026, amount=D("8000"))
    AccountInterest.objects.all().delete()
    for year in range(2010, 2025):
        AccountInterest.objects.create(year=year, rate=D(0))
    AccountInterest.objects.create(year=2025, rate=D("0.03"))
    AccountInterest.objects.create(year=2026, rate=D("0.02"))
    for year in range(2010, 2023):
        BaseLimit.objects.create(
            year=year,
            insurance_type="pension",
            effective_from=dt.date(year, 1, 1),
            average_wage=D("5000"),
            floor=D("3000"),
            ceiling=D("15000"),
        )


@pytest.fixture
def vip(office):
    return EmployerFactory(office=office, is_vip=True)


@pytest.fixture
def operator(vip):
    return OperatorFactory(employer=vip)


def month(year: int, m: int) -> dt.date:
    return dt.date(year, m, 1)


def months(first: dt.date, last: dt.date) -> list[dt.date]:
    out, current = [], first
    while current <= last:
        out.append(current)
        current = month(current.year + current.month // 12, current.month % 12 + 1)
    return out


def employed(person, employer, start: dt.date, types=("pension", "medical", "unemployment")):
    for itype in types:
        Relation.objects.create(
            person=person,
            employer=employer,
            insurance_type=itype,
            status=RelationStatus.CONTRIBUTING,
            start_month=start,
        )
    return person


def history(person, employer, bases: dict[tuple[dt.date, dt.date], str], itype="pension", rate="0.08"):
    """Lines for the months of each (first, last) range at its base, personal part base × rate."""
    lines = []
    for (first, last), base in bases.items():
        for m in months(first, last):
            b = D(base)
            lines.append(
                ContributionLine(
                    person=person,
                    employer=employer,
                    month=m,
                    insurance_type=itype,
                    kind=LineKind.REGULAR,
                    base=b,
                    employer_amount=fen(b * D("0.16")),
                    personal_amount=fen(b * D(rate)),
                )
            )
    ContributionLine.objects.bulk_create(lines)


def row(person, **extra) -> dict:
    return {
        "id_type": "01",
        "id_number": person.id_number,
        "name": person.name,
        "kind": "01",
        "retire_month": "2026-05",
        "deemed_months": "0",
        "bank": "中国工商银行武汉江岸支行",
        "account": "6222 0202 0001 2345 678",
        "phone": "13800001111",
        **extra,
    }


def scan_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (600, 800), "white").save(out, "PNG")
    return out.getvalue()


def attach_required(tx, user) -> None:
    """The scans a clerk needs, attached as 上传材料 does."""
    for material in materials.required(tx, registry.get(CODE)):
        scan = check_scan(scan_png(), "材料.png", max_bytes=10 * 1024 * 1024, max_pages=50)
        services.attachment_add(tx=tx, actor=user, material=material, scan=scan)


def declare(employer, user, raw) -> Transaction:
    result = services.transaction_save_single(employer=employer, actor=user, business_type=CODE, raw=raw)
    assert result.ok, [i.message() for i in result.issues]
    tx = result.transaction
    attach_required(tx, user)
    tx.refresh_from_db()
    tx = services.transaction_submit(tx=tx, actor=user, version=tx.version)
    services.run_audit(tx.pk)
    tx.refresh_from_db()
    return tx


def cancel(tx, user) -> None:
    tx.refresh_from_db()
    services.transaction_cancel(tx=tx, actor=user, version=tx.version)


def issues(tx) -> dict[str, dict]:
    return {i["code"]: i.get("params", {}) for item in tx.items.all() for i in (item.audit_issues or [])}


# --- four persons, computed by hand ------------------------------------------------------------


def test_normal_retirement_estimate_by_hand_and_effect(world, vip, operator):
    """A man born 1966-01: original age 60 in 2026-01, the reform adds 4 months (k = 12,
    12 // 4 + 1): statutory 2026-05. 180 months from 2011-06 to 2026-05, every one at an
    index of 1.0; age 60 at retirement: 计发月数 139."""
    man = employed(PersonFactory(sex="1", birth_date=dt.date(1966, 1, 10)), vip, month(2011, 6))
    history(man, vip, {(month(2011, 6), month(2022, 12)): "5000", (month(2023, 1), month(2026, 6)): "7496"})
    tx = declare(vip, operator, row(man))
    assert tx.state == State.FINISHED, issues(tx)

    # 基础养老金 = (8000 + 8000 × 1.0) ÷ 2 × 15 × 1 %
    basic = D("1200.00")
    # 个人账户: 139 months × 400 (2011-06..2022-12) + 24 × 599.68 (2023–2024), no interest;
    # 2025: × 1.03, its 12 × 599.68 × (1 + 0.03 × 1.083 ÷ 2); 2026 to May: 5/12 of 2 %.
    end_2024 = 139 * D("400.00") + 24 * D("599.68")
    end_2025 = fen(end_2024 * D("1.03") + 12 * D("599.68") * (1 + D("0.03") * D("1.083") / 2))
    may_2026 = fen(end_2025 * (1 + D("0.02") * 5 / 12) + 5 * D("599.68") * (1 + D("0.02") * D("1.083") / 2 * 5 / 12))
    account = fen(may_2026 / 139)
    retiree = Retiree.objects.get(person=man)
    benefits = dict(retiree.benefits.values_list("item", "monthly"))
    assert benefits == {"basic": basic, "account": account, "transition": D("0.00")}
    assert retiree.retire_month == month(2026, 5) and retiree.pension_start == month(2026, 6)
    assert retiree.basis["balance"] == str(may_2026)
    assert set(retiree.benefits.values_list("start_month", flat=True)) == {month(2026, 6)}
    # Every relation here ends from June (终止, 03), and June's line is voided.
    assert set(Relation.objects.filter(person=man).values_list("status", "end_month", "end_reason")) == {
        (RelationStatus.TERMINATED, month(2026, 6), "03")
    }
    assert ContributionLine.objects.get(person=man, month=month(2026, 6)).voided_by_id == tx.pk
    assert not ContributionLine.objects.filter(person=man, month=month(2026, 5), voided_by__isnull=False).exists()


def test_flexible_early_estimate_by_hand(world, vip, operator):
    """A woman worker born 1976-02: original age 50 in 2026-02, the reform adds 7 months
    (k = 13, 13 // 2 + 1): statutory 2026-09. She retires early in 2026-05 (at 50: 计发月数
    195), with 180 months at an index of 2.0."""
    woman = employed(PersonFactory(sex="2", birth_date=dt.date(1976, 2, 3), identity="worker"), vip, month(2011, 6))
    history(woman, vip, {(month(2011, 6), month(2022, 12)): "10000", (month(2023, 1), month(2026, 5)): "14992"})
    tx = declare(vip, operator, row(woman, kind="02"))
    # A clerk reviews 弹性提前退休 even for a VIP employer.
    assert tx.state == State.REVIEW, issues(tx)
    item = tx.items.get()
    # (8000 + 8000 × 2.0) ÷ 2 × 15 × 1 %
    assert item.data["estimate_basic"] == "1800.00"
    end_2024 = 139 * D("800.00") + 24 * D("1199.36")
    end_2025 = fen(end_2024 * D("1.03") + 12 * D("1199.36") * (1 + D("0.03") * D("1.083") / 2))
    may_2026 = fen(end_2025 * (1 + D("0.02") * 5 / 12) + 5 * D("1199.36") * (1 + D("0.02") * D("1.083") / 2 * 5 / 12))
    assert item.data["estimate_account"] == str(fen(may_2026 / 195))
    assert item.data["statutory_month"] == "2026-09"


def test_flexible_delay_estimate_by_hand(world, vip, operator):
    """A man born 1964-01 reached 60 in 2024-01, before the reform: statutory 2024-01. With a
    delay agreement he retires in 2026-06, 29 months later (at 62: 计发月数 125). 138 months
    at an index of 0.5 (2,500 of 5,000), then 42 at 1.0: the average index is 111 ÷ 180."""
    man = employed(PersonFactory(sex="1", birth_date=dt.date(1964, 1, 20)), vip, month(2011, 7))
    history(man, vip, {(month(2011, 7), month(2022, 12)): "2500", (month(2023, 1), month(2026, 6)): "7496"})
    tx = declare(vip, operator, row(man, kind="03", retire_month="2026-06"))
    assert tx.state == State.REVIEW, issues(tx)
    item = tx.items.get()
    index = D(111) / D(180)
    assert item.data["estimate_basic"] == str(fen((D(8000) + D(8000) * index) / 2 * 15 / 100)) == "970.00"
    end_2024 = 138 * D("200.00") + 24 * D("599.68")
    end_2025 = fen(end_2024 * D("1.03") + 12 * D("599.68") * (1 + D("0.03") * D("1.083") / 2))
    june_2026 = fen(end_2025 * (1 + D("0.02") * 6 / 12) + 6 * D("599.68") * (1 + D("0.02") * D("1.083") / 2 * 6 / 12))
    assert item.data["estimate_account"] == str(fen(june_2026 / 125))
    assert item.data["estimate_transition"] == "0.00"


def test_deemed_months_estimate_by_hand_with_projected_months(world, vip, operator):
    """A woman cadre born 1971-03: original age 55 in 2026-03, +4 months (k = 14): statutory
    2026-07, a month ahead. 65 months on the register (2021-01..2026-05), June and July still
    to come here (projected at the last base), 120 deemed months: 187 months, 15 7/12 years.
    Age 55 at retirement: 计发月数 170. Short of 25 medical years: the one-off medical payment."""
    woman = employed(PersonFactory(sex="2", birth_date=dt.date(1971, 3, 5), identity="cadre"), vip, month(2021, 1))
    history(woman, vip, {(month(2021, 1), month(2022, 12)): "5000", (month(2023, 1), month(2026, 5)): "7496"})
    tx = declare(vip, operator, row(woman, retire_month="2026-07", deemed_months="120"))
    # Deemed months need a clerk and their materials, even for a VIP employer.
    assert tx.state == State.REVIEW, issues(tx)
    item = tx.items.get()
    assert item.data["estimate_basic"] == str(fen(D(8000) * D(187) / D(12) / 100)) == "1246.67"
    # 过渡性养老金 = 8000 × 1.0 × 10 years × 1.3 %
    assert item.data["estimate_transition"] == "1040.00"
    end_2024 = 24 * D("400.00") + 24 * D("599.68")
    end_2025 = fen(end_2024 * D("1.03") + 12 * D("599.68") * (1 + D("0.03") * D("1.083") / 2))
    july_2026 = fen(end_2025 * (1 + D("0.02") * 7 / 12) + 7 * D("599.68") * (1 + D("0.02") * D("1.083") / 2 * 7 / 12))
    assert item.data["estimate_account"] == str(fen(july_2026 / 170))
    total = D("1246.67") + D("1040.00") + fen(july_2026 / 170)
    assert item.data["estimate_total"] == str(total)
    medical = issues(tx)["RETIRE_MEDICAL_SHORT"]
    # No medical line yet: June and July still to come here, and the 120 deemed months.
    assert medical["months"] == 122 and medical["short"] == 300 - 122


# --- the rules -----------------------------------------------------------------------------------


def test_normal_retirement_only_from_the_statutory_month(world, vip, operator):
    man = employed(PersonFactory(sex="1", birth_date=dt.date(1966, 1, 10)), vip, month(2011, 1))
    history(man, vip, {(month(2011, 1), month(2026, 5)): "7496"})
    early = declare(vip, operator, row(man, retire_month="2026-04"))
    assert early.state == State.RETURNED
    assert issues(early)["RETIRE_NORMAL_EARLY"] == {"statutory": "2026-05"}
    cancel(early, operator)
    late = declare(vip, operator, row(man, retire_month="2026-06"))
    assert "RETIRE_NORMAL_LATE" in issues(late)


def test_short_of_the_minimum_is_told_and_may_retire_later_as_normal(world, vip, operator):
    """150 months at the statutory month 2026-05: short by 30. Declared for 2026-05, the
    declaration is returned with the months; after 延长缴费 a later normal month is allowed
    once the minimum is reached (here the table is lowered to show it)."""
    man = employed(PersonFactory(sex="1", birth_date=dt.date(1966, 1, 10)), vip, month(2014, 1))
    history(man, vip, {(month(2014, 1), month(2026, 6)): "7496"})  # 150 months to 2026-06
    tx = declare(vip, operator, row(man))
    short = issues(tx)["RETIRE_SHORT_OF_MINIMUM"]
    assert short == {"months": 149, "deemed": 0, "year": 2026, "minimum": 180, "short": 31}
    cancel(tx, operator)
    MinimumContribution.objects.all().delete()
    MinimumContribution.objects.create(year=2026, months=150)
    later = declare(vip, operator, row(man, retire_month="2026-06"))
    assert later.state == State.FINISHED, issues(later)


def test_flexible_early_limits(world, vip, operator):
    """Statutory 2026-09 (see above), original age 50 in 2026-02: early retirement from 2026-02,
    never at or after the statutory month."""
    woman = employed(PersonFactory(sex="2", birth_date=dt.date(1976, 2, 3), identity="worker"), vip, month(2010, 1))
    history(woman, vip, {(month(2010, 1), month(2026, 5)): "7496"})
    too_early = declare(vip, operator, row(woman, kind="02", retire_month="2026-01"))
    assert issues(too_early)["RETIRE_EARLY_TOO_EARLY"] == {"months": 36, "age": 50, "earliest": "2026-02"}
    cancel(too_early, operator)
    not_early = declare(vip, operator, row(woman, kind="02", retire_month="2026-09"))
    assert "RETIRE_EARLY_NOT_BEFORE" in issues(not_early)


def test_flexible_delay_at_most_36_months(world, vip, operator):
    """Statutory 2023-03 for a man born 1963-03 (before the reform): the latest is 2026-03."""
    man = employed(PersonFactory(sex="1", birth_date=dt.date(1963, 3, 1)), vip, month(2008, 1))
    history(man, vip, {(month(2008, 1), month(2026, 5)): "7496"})
    tx = declare(vip, operator, row(man, kind="03", retire_month="2026-05"))
    assert issues(tx)["RETIRE_DELAY_TOO_LATE"] == {"months": 36, "latest": "2026-03"}


def test_special_job_and_sick_retirement_ages_and_years(world, vip, operator):
    man = employed(PersonFactory(sex="1", birth_date=dt.date(1972, 3, 1)), vip, month(2000, 1))
    history(man, vip, {(month(2000, 1), month(2026, 5)): "7496"})
    # 54 in 2026-05: special-job retirement needs 55.
    tx = declare(vip, operator, row(man, kind="04", special_years="10"))
    assert issues(tx)["RETIRE_KIND_TOO_YOUNG"]["earliest"] == "2027-03"
    cancel(tx, operator)
    # The years of special jobs are checked while typing.
    result = services.transaction_save_single(
        employer=vip, actor=operator, business_type=CODE, raw=row(man, kind="04", special_years="7")
    )
    assert {i.code for i in result.issues} >= {"RETIRE_SPECIAL_SHORT"}
    result = services.transaction_save_single(employer=vip, actor=operator, business_type=CODE, raw=row(man, kind="04"))
    assert {i.code for i in result.issues} >= {"RETIRE_SPECIAL_REQUIRED"}
    # 病退 from 50: allowed at 54 (a clerk reviews it).
    sick = declare(vip, operator, row(man, kind="05"))
    assert sick.state == State.REVIEW, issues(sick)


def test_deemed_months_may_not_overlap_paid_months(world, vip, operator):
    """Working since 1991-07 (the factory's date), paid from 2000-01: at most 102 deemed months."""
    man = employed(PersonFactory(sex="1", birth_date=dt.date(1966, 1, 10)), vip, month(2000, 1))
    man.first_work_date = dt.date(1991, 7, 1)
    man.save()
    history(man, vip, {(month(2000, 1), month(2026, 5)): "7496"})
    tx = declare(vip, operator, row(man, deemed_months="103"))
    assert issues(tx)["RETIRE_DEEMED_OVERLAP"] == {"deemed": 103, "available": 102}


def test_not_contributing_here_already_retired_and_name(world, vip, operator, other_employer):
    stranger = employed(PersonFactory(sex="1", birth_date=dt.date(1966, 1, 10)), other_employer, month(2000, 1))
    history(stranger, other_employer, {(month(2000, 1), month(2026, 5)): "7496"})
    tx = declare(vip, operator, row(stranger))
    assert set(issues(tx)) == {"RETIRE_NOT_CONTRIBUTING"}  # nothing of the other employer shown
    cancel(tx, operator)

    man = employed(PersonFactory(sex="1", birth_date=dt.date(1966, 1, 10)), vip, month(2000, 1))
    history(man, vip, {(month(2000, 1), month(2026, 5)): "7496"})
    assert declare(vip, operator, row(man)).state == State.FINISHED
    again = declare(vip, operator, row(man))
    assert set(issues(again)) == {"RETIRE_ALREADY_RETIRED"}


def test_a_person_stopped_here_for_retirement_may_still_be_declared(world, vip, operator):
    """减员 with 03 from 2026-06 came first: the declaration's 退休年月 is the last month, 2026-05."""
    man = employed(PersonFactory(sex="1", birth_date=dt.date(1966, 1, 10)), vip, month(2000, 1))
    history(man, vip, {(month(2000, 1), month(2026, 5)): "7496"})
    Relation.objects.filter(person=man).update(
        status=RelationStatus.TERMINATED, end_month=month(2026, 6), end_reason="03"
    )
    wrong = declare(vip, operator, row(man, retire_month="2026-04"))
    assert issues(wrong)["RETIRE_MONTH_NOT_LAST"] == {"stop": "2026-06", "last": "2026-05"}
    cancel(wrong, operator)
    assert declare(vip, operator, row(man)).state == State.FINISHED


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("deemed_months", "-1", "RETIRE_DEEMED_FORMAT"),
        ("deemed_months", "12.5", "RETIRE_DEEMED_FORMAT"),
        ("deemed_months", "NaN", "RETIRE_DEEMED_FORMAT"),
        ("deemed_months", "9" * 40, "RETIRE_DEEMED_FORMAT"),
        ("special_years", "abc", "RETIRE_SPECIAL_FORMAT"),
        ("special_years", "8.25", "RETIRE_SPECIAL_FORMAT"),
        ("account", "6222-ABC", "RETIRE_ACCOUNT_FORMAT"),
        ("account", "1234567", "RETIRE_ACCOUNT_FORMAT"),
        ("retire_month", "2026-10", "RETIRE_MONTH_TOO_FAR"),
        ("kind", "06", "CHOICE"),
        ("bank", "", "REQUIRED"),
    ],
)
def test_row_rules(params, vip, field, value, code):
    from shebao.workflow import registry

    business = registry.get(CODE)
    person = PersonFactory.build(sex="1", birth_date=dt.date(1966, 1, 10))
    result = business.check_row(row(person, **{field: value}), params, vip)
    assert code in {i.code for i in result.issues}


def test_row_values_are_normalised(params, vip):
    from shebao.workflow import registry

    person = PersonFactory.build(sex="1", birth_date=dt.date(1966, 1, 10))
    result = registry.get(CODE).check_row(
        row(person, account="6222－0202 0001", deemed_months="１２", special_years="10"), params, vip
    )
    assert not result.issues
    assert result.data["account"] == "622202020001"
    assert result.data["deemed_months"] == "12"
    assert result.data["special_years"] == "10.0"


def test_a_reviewed_kind_cannot_be_submitted_without_its_materials(world, vip, operator):
    woman = employed(PersonFactory(sex="2", birth_date=dt.date(1976, 2, 3), identity="worker"), vip, month(2011, 6))
    result = services.transaction_save_single(
        employer=vip, actor=operator, business_type=CODE, raw=row(woman, kind="02")
    )
    tx = result.transaction
    with pytest.raises(ApplicationError) as refused:
        services.transaction_submit(tx=tx, actor=operator, version=tx.version)
    assert refused.value.code == "MATERIALS_MISSING"
    assert "职工本人弹性提前退休书面申请" in str(refused.value)
    tx.refresh_from_db()
    assert tx.state == State.SAVED  # nothing lost


def test_required_materials_by_kind(world, vip, operator):
    business = retiree_benefit.RetireeBenefitDeclaration()

    class Row:
        def __init__(self, **data):
            self.data = data

    assert business.required_materials(None, [Row(kind="01", deemed_months="0")]) == []
    wanted = business.required_materials(None, [Row(kind="02", deemed_months="24"), Row(kind="05")])
    assert wanted == [retiree_benefit.MATERIALS["02"], retiree_benefit.MATERIALS["05"], retiree_benefit.DEEMED_MATERIAL]


def test_the_estimate_preview_before_saving(world, vip, operator):
    """测算 on the form: the items, their start month and the figures behind them."""
    man = employed(PersonFactory(sex="1", birth_date=dt.date(1966, 1, 10)), vip, month(2011, 6))
    history(man, vip, {(month(2011, 6), month(2022, 12)): "5000", (month(2023, 1), month(2026, 6)): "7496"})
    data = {**row(man), "id_key": man.id_key}
    table = retiree_benefit.ESTIMATE_PREVIEW.compute(ParamSnapshot.load(), data, vip)
    assert [r["amount"] for r in table.rows][0] == "1200.00"
    assert table.notes["statutory"] == "2026-05" and table.notes["payout"] == "139"
    # Another employer's person: no estimate (nothing of it is shown).
    other = EmployerFactory()
    assert retiree_benefit.ESTIMATE_PREVIEW.compute(ParamSnapshot.load(), data, other).rows == []


def test_retiree_benefits_are_written_once_per_item(world, vip, operator):
    man = employed(PersonFactory(sex="1", birth_date=dt.date(1966, 1, 10)), vip, month(2011, 6))
    history(man, vip, {(month(2011, 6), month(2026, 5)): "7496"})
    declare(vip, operator, row(man))
    assert RetireeBenefit.objects.filter(retiree__person=man).count() == 3


# --- the pages: 退休人员, the printed form, the batch ------------------------------------------


def test_the_retirees_page_lists_this_employers_retirees_only(world, vip, operator, operator_client, other_employer):
    man = employed(PersonFactory(sex="1", birth_date=dt.date(1966, 1, 10), name="欧阳万佳"), vip, month(2011, 6))
    history(man, vip, {(month(2011, 6), month(2022, 12)): "5000", (month(2023, 1), month(2026, 6)): "7496"})
    tx = declare(vip, operator, row(man))
    page = operator_client(vip, operator).get(reverse("web:retirees"))
    text = page.content.decode()
    assert page.status_code == 200
    assert "欧阳万佳" in text and "2026-06" in text and "1200.00" in text and tx.serial in text
    assert "6222 **** 5678" in text and "6222020200012345678" not in text  # the account masked
    other = operator_client(other_employer).get(reverse("web:retirees")).content.decode()
    assert "欧阳万佳" not in other and "暂无退休人员" in other
    # The declaration's transaction is this employer's: 404 for another.
    assert operator_client(other_employer).get(reverse("web:tx_detail", args=[tx.pk])).status_code == 404


def test_the_printed_form_as_pdf_and_xlsx(world, vip, operator, operator_client):
    man = employed(PersonFactory(sex="1", birth_date=dt.date(1966, 1, 10)), vip, month(2011, 6))
    history(man, vip, {(month(2011, 6), month(2026, 6)): "7496"})
    tx = declare(vip, operator, row(man))
    client = operator_client(vip, operator)
    pdf = client.get(reverse("exports:form", kwargs={"pk": tx.pk, "fmt": "pdf"}))
    assert (
        pdf.status_code == 200 and b"".join(pdf.streaming_content if pdf.streaming else [pdf.content])[:5] == b"%PDF-"
    )
    xlsx = client.get(reverse("exports:form", kwargs={"pk": tx.pk, "fmt": "xlsx"}))
    body = b"".join(xlsx.streaming_content) if xlsx.streaming else xlsx.content
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    cells = [str(c.value) for r in sheet.iter_rows() for c in r if c.value is not None]
    assert "退休人员待遇申报表" in "".join(cells)
    assert man.id_number in cells and "01 正常退休" in cells


def test_a_batch_of_retirements_with_a_duplicate_and_a_locked_person(world, vip, operator, operator_client):
    """One upload: two good rows, the same person twice (both rows fail), a person locked by an
    open 减员 (the import says so); the good rows finish, the rest are in the failure lists."""
    persons = []
    for n in range(4):
        person = employed(PersonFactory(sex="1", birth_date=dt.date(1966, 1, 10 + n)), vip, month(2011, 6))
        history(person, vip, {(month(2011, 6), month(2026, 6)): "7496"})
        persons.append(person)
    locked = persons[3]
    services.transaction_save_single(
        employer=vip,
        actor=operator,
        business_type="suspend",
        raw={
            "id_type": "01",
            "id_number": locked.id_number,
            "name": locked.name,
            "stop_month": "2026-07",
            "reason": "02",
        },
    )
    headers = [
        "证件类型",
        "证件号码",
        "姓名",
        "退休类别",
        "退休年月",
        "视同缴费月数",
        "特殊工种年限",
        "养老金发放银行",
        "银行账号",
        "联系电话",
    ]
    values = [
        "居民身份证",
        None,
        None,
        "正常退休",
        "2026-05",
        "0",
        "",
        "中国银行",
        "6216610200001234567",
        "13800001111",
    ]
    body = [
        dict(zip(headers, [values[0], p.id_number, p.name, *values[3:]], strict=True))
        for p in [persons[0], persons[1], persons[2], persons[2], locked]
    ]
    client = operator_client(vip, operator)
    tx = upload_and_import(client, xlsx_bytes(body, headers), code=CODE)
    by_row = {item.row_no: {i["code"] for i in item.import_issues} for item in tx.items.order_by("row_no")}
    assert "DUPLICATE_IN_FILE" in by_row[4] and "DUPLICATE_IN_FILE" in by_row[5]
    assert "LOCKED_HERE" in by_row[6], by_row
    tx.refresh_from_db()
    services.transaction_submit(tx=tx, actor=operator, version=tx.version)
    services.run_audit(tx.pk)
    tx.refresh_from_db()
    assert tx.state == State.FINISHED
    assert set(Retiree.objects.values_list("person_id", flat=True)) == {persons[0].pk, persons[1].pk}


def test_the_template_is_prefilled_with_who_reaches_retirement_age(world, vip, operator, operator_client):
    """Statutory 2026-05 (last month) is offered, with 正常退休 and its month; a younger person
    and a retiree are not."""
    due = employed(PersonFactory(sex="1", birth_date=dt.date(1966, 1, 10)), vip, month(2011, 6))
    employed(PersonFactory(sex="1", birth_date=dt.date(1980, 1, 10)), vip, month(2011, 6))
    body = operator_client(vip, operator).get(reverse("batch:template", args=[CODE])).content
    book = openpyxl.load_workbook(io.BytesIO(body))
    sheet = book.worksheets[0]
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=2) if any(c.value for c in r)]
    assert [(r[1], r[3], r[4], r[5]) for r in rows] == [(due.id_number, "正常退休", "2026-05", "0")]
    note = book["填写说明"].cell(row=2, column=1).value
    assert "2026-05 至 2026-09" in note


def test_a_batch_with_a_reviewed_kind_takes_its_scan_on_the_import_screen(world, vip, operator, operator_client):
    """批量办理 of a 弹性提前退休: the import screen offers 上传材料, 提交审批 is refused until
    the written request is attached, then the batch waits for the clerk."""
    woman = employed(PersonFactory(sex="2", birth_date=dt.date(1976, 2, 3), identity="worker"), vip, month(2011, 6))
    history(woman, vip, {(month(2011, 6), month(2026, 5)): "7496"})
    headers = [
        "证件类型",
        "证件号码",
        "姓名",
        "退休类别",
        "退休年月",
        "视同缴费月数",
        "养老金发放银行",
        "银行账号",
        "联系电话",
    ]
    values = [
        "居民身份证",
        woman.id_number,
        woman.name,
        "弹性提前退休",
        "2026-05",
        "0",
        "中国银行",
        "6216610200001234567",
    ]
    client = operator_client(vip, operator)
    tx = upload_and_import(
        client, xlsx_bytes([dict(zip(headers, [*values, "13800001111"], strict=True))], headers), code=CODE
    )
    page = client.get(reverse("batch:detail", args=[tx.pk])).content.decode()
    assert "上传材料" in page and "职工本人弹性提前退休书面申请" in page
    tx.refresh_from_db()
    refused = client.post(
        reverse("batch:action", args=[tx.pk]), {"action": "submit", "version": tx.version}, follow=True
    )
    assert "职工本人弹性提前退休书面申请" in refused.content.decode()
    tx.refresh_from_db()
    assert tx.state == State.SAVED  # nothing submitted, nothing lost
    upload = client.post(
        reverse("web:attachment_upload", args=[tx.pk]),
        {"material": retiree_benefit.MATERIALS["02"], "file": SimpleUploadedFile("申请.png", scan_png(), "image/png")},
    )
    assert upload.status_code == 302
    assert client.get(upload["Location"], follow=True).request["PATH_INFO"] == reverse("batch:detail", args=[tx.pk])
    tx.refresh_from_db()
    client.post(reverse("batch:action", args=[tx.pk]), {"action": "submit", "version": tx.version})
    services.run_audit(tx.pk)
    tx.refresh_from_db()
    assert tx.state == State.REVIEW


def test_the_clerk_sees_the_estimate_and_the_scan_then_approves(world, vip, operator, clerk, clerk_client):
    """弹性提前退休 of a VIP employer waits for the clerk of its district, who reads the
    statutory month, the months counted, the estimate and the attached request beside the
    data; approving writes the retiree and ends the relations."""
    woman = employed(PersonFactory(sex="2", birth_date=dt.date(1976, 2, 3), identity="worker"), vip, month(2011, 6))
    history(woman, vip, {(month(2011, 6), month(2026, 6)): "7496"})
    tx = declare(vip, operator, row(woman, kind="02"))
    assert tx.state == State.REVIEW
    desk = clerk_client.get(reverse("backoffice:detail", args=[tx.pk])).content.decode()
    item = tx.items.get()
    for text in ("法定退休年月", "2026-09", "累计缴费月数", item.data["counted_months"], item.data["estimate_total"]):
        assert text in desk
    assert "材料.png" in desk and "职工本人弹性提前退休书面申请" in desk
    response = clerk_client.post(reverse("backoffice:approve", args=[tx.pk]), {"version": tx.version})
    assert response.status_code in (200, 302)
    tx.refresh_from_db()
    assert tx.state == State.FINISHED
    retiree = Retiree.objects.get(person=woman)
    assert retiree.kind == "02" and retiree.pension_start == month(2026, 6)
    assert str(sum(retiree.benefits.values_list("monthly", flat=True))) == item.data["estimate_total"]
    assert not Relation.objects.filter(person=woman, status=RelationStatus.CONTRIBUTING).exists()


def test_the_person_page_says_the_person_retired_here(world, vip, operator, operator_client):
    man = employed(PersonFactory(sex="1", birth_date=dt.date(1966, 1, 10)), vip, month(2011, 6))
    history(man, vip, {(month(2011, 6), month(2022, 12)): "5000", (month(2023, 1), month(2026, 6)): "7496"})
    declare(vip, operator, row(man))
    total = sum(Retiree.objects.get(person=man).benefits.values_list("monthly", flat=True))
    page = operator_client(vip, operator).get(reverse("web:person_detail", args=[man.pk])).content.decode()
    assert "已于 2026-05 退休（正常退休），自 2026-06 起领取养老金" in page and f"{total:.2f}" in page


def test_only_rows_that_need_a_scan_are_read_for_the_materials(world, vip, operator, operator_client):
    """materials_rows: of a batch of normal retirements, the one 病退 and the one with deemed
    months name their materials; the normal rows are not read (nothing required of them)."""
    persons = [
        employed(PersonFactory(sex="1", birth_date=dt.date(1966, 1, 1 + n)), vip, month(2011, 6)) for n in range(4)
    ]
    headers = [
        "证件类型",
        "证件号码",
        "姓名",
        "退休类别",
        "退休年月",
        "视同缴费月数",
        "养老金发放银行",
        "银行账号",
        "联系电话",
    ]
    kinds = [("正常退休", "0"), ("正常退休", "0"), ("病退", "0"), ("正常退休", "12")]
    body = [
        dict(
            zip(
                headers,
                ["居民身份证", p.id_number, p.name, k, "2026-05", d, "中国银行", "6216610200001234567", "13800001111"],
                strict=True,
            )
        )
        for p, (k, d) in zip(persons, kinds, strict=True)
    ]
    tx = upload_and_import(operator_client(vip, operator), xlsx_bytes(body, headers), code=CODE)
    seen: list[int] = []
    business = registry.get(CODE)
    original = type(business).required_materials

    def spy(self, tx, items):
        seen.extend(item.row_no for item in items)
        return original(self, tx, items)

    type(business).required_materials = spy
    try:
        assert materials.required(tx, business) == [retiree_benefit.MATERIALS["05"], retiree_benefit.DEEMED_MATERIAL]
    finally:
        type(business).required_materials = original
    assert sorted(seen) == [4, 5]


def test_delay_and_special_kinds_on_the_wrong_side_of_the_statutory_month(world, vip, operator):
    """Statutory 2026-05 for a man born 1966-01: 弹性延迟退休 in 2026-05 is not a delay; 病退 in
    2026-05 is not early (a normal retirement is)."""
    man = employed(PersonFactory(sex="1", birth_date=dt.date(1966, 1, 10)), vip, month(2000, 1))
    history(man, vip, {(month(2000, 1), month(2026, 6)): "7496"})
    delay = declare(vip, operator, row(man, kind="03"))
    assert issues(delay)["RETIRE_DELAY_NOT_AFTER"] == {"statutory": "2026-05"}
    cancel(delay, operator)
    sick = declare(vip, operator, row(man, kind="05"))
    assert issues(sick)["RETIRE_KIND_NOT_BEFORE"]["statutory"] == "2026-05"


def test_without_a_retirement_age_rule_or_a_pension_base(world, vip, operator):
    """No rule of the person's category: RETIRE_NO_STATUTORY. No 计发基数 at all: the
    declaration goes on with a warning and the agency assesses the benefit."""
    from shebao.params.models import RetirementRule

    man = employed(PersonFactory(sex="1", birth_date=dt.date(1966, 1, 10)), vip, month(2000, 1))
    history(man, vip, {(month(2000, 1), month(2026, 6)): "7496"})
    PensionBase.objects.all().delete()
    tx = declare(vip, operator, row(man))
    assert "RETIRE_ESTIMATE_UNAVAILABLE" in issues(tx)
    assert tx.state == State.FINISHED
    assert not Retiree.objects.get(person=man).benefits.exists()

    woman = employed(PersonFactory(sex="2", birth_date=dt.date(1976, 2, 3), identity="worker"), vip, month(2000, 1))
    RetirementRule.objects.filter(category="female_worker").delete()
    assert set(issues(declare(vip, operator, row(woman)))) >= {"RETIRE_NO_STATUTORY"}


def test_a_retiree_is_re_employed_for_work_injury_only(world, vip, operator, office):
    """After the retirement the person may be enrolled elsewhere for 工伤 only; with 养老 the
    enrolment says so (TERMINATED_RETIRED)."""
    from tests.workflow.helpers import enrol_raw

    man = employed(PersonFactory(sex="1", birth_date=dt.date(1966, 1, 10)), vip, month(2011, 6))
    history(man, vip, {(month(2011, 6), month(2026, 6)): "7496"})
    declare(vip, operator, row(man))
    other = EmployerFactory(office=office, is_vip=True)
    user = OperatorFactory(employer=other)

    def enrol(types: str) -> Transaction:
        raw = enrol_raw(man.id_number, man.name, insurance_types=types, first_work_date="1986-07-01")
        result = services.transaction_save_single(employer=other, actor=user, business_type="enrol", raw=raw)
        tx = result.transaction
        services.transaction_submit(tx=tx, actor=user, version=tx.version)
        services.run_audit(tx.pk)
        tx.refresh_from_db()
        return tx

    refused = enrol("养老、工伤")
    assert "TERMINATED_RETIRED" in issues(refused)
    cancel(refused, user)
    injury = enrol("工伤")
    assert injury.state == State.FINISHED, issues(injury)
    assert Relation.objects.get(person=man, employer=other).insurance_type == "injury"
