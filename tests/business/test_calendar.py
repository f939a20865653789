"""The calendar as it really turns: enrolment on China's date at every boundary, and 1 January
before the new year's base limits are published (DOMAIN §7 provisional limits)."""

from __future__ import annotations

import datetime as dt
import os
import time
from decimal import Decimal

import pytest

from shebao.core.months import add_months, format_month, parse_month
from shebao.params.models import BaseLimit, InjuryRate, Rate, Setting
from shebao.params.services import ParamSnapshot
from shebao.register.models import ContributionBase, ContributionLine
from shebao.workflow import registry, services
from shebao.workflow.models import Item, State
from tests.factories import EmployerFactory, OperatorFactory, make_resident_id, seed_params
from tests.workflow.helpers import enrol_raw

pytestmark = pytest.mark.django_db

PUBLISHED = [2024, 2025, 2026]  # the years with base limits of their own in these tests


@pytest.fixture(autouse=True)
def _params():
    seed_params(PUBLISHED)


def check(raw: dict, employer=None):
    return registry.get("enrol").check_row(raw, ParamSnapshot.load(), employer)


def codes(result) -> list[tuple[str, str]]:
    return [(i.code, i.field) for i in result.issues]


def errors(result) -> list[tuple[str, str]]:
    return [(i.code, i.field) for i in result.issues if i.is_error]


def shifted(month: str, n: int) -> str:
    return format_month(add_months(parse_month(month), n))


def enrol_and_finish(raw: dict, employer=None):
    employer = employer or EmployerFactory(is_vip=True)
    user = OperatorFactory(employer=employer)
    saved = services.transaction_save_single(employer=employer, actor=user, business_type="enrol", raw=raw)
    assert saved.ok, saved.issues
    tx = saved.transaction
    services.transaction_submit(tx=tx, actor=user, version=tx.version)
    assert services.run_audit(tx.pk) == "finished"
    tx.refresh_from_db()
    assert tx.state == State.FINISHED
    return tx


# --- the current month is China's, at every boundary -------------------------------------

BOUNDARIES = [
    # (instant, China's current month)
    ("2026-12-31T15:30:00Z", "2026-12"),  # 23:30 on 31 December in China
    ("2026-12-31T16:30:00Z", "2027-01"),  # 00:30 on 1 January in China, still 31 December in UTC
    ("2027-01-01T12:00:00+08:00", "2027-01"),  # 1 January
    ("2028-02-29T12:00:00+08:00", "2028-02"),  # 29 February
    ("2028-02-29T16:00:00Z", "2028-03"),  # already 1 March in China
    ("2026-05-31T23:59:00+08:00", "2026-05"),  # the last day of a month
    ("2026-06-01T00:00:00+08:00", "2026-06"),  # the first day of a month
    ("2026-04-30T16:30:00Z", "2026-05"),  # first day in China, last day in UTC
]


@pytest.mark.parametrize("instant, current", BOUNDARIES)
def test_start_months_are_judged_on_chinas_date(pinned_clock, instant, current):
    pinned_clock.move_to(dt.datetime.fromisoformat(instant), tick=False)
    pid = make_resident_id(dt.date(1990, 1, 1))
    provisional = [("LIMITS_PROVISIONAL", "wage")] if parse_month(current).year not in PUBLISHED else []
    assert codes(check(enrol_raw(pid, start_month=current))) == provisional
    assert codes(check(enrol_raw(pid, start_month=shifted(current, 1)))) == [("START_IN_FUTURE", "start_month")]
    # Three months back needs no back payment; its lines run to this month (provisional in a
    # year without limits of its own).
    assert codes(check(enrol_raw(pid, start_month=shifted(current, -3)))) == provisional
    assert errors(check(enrol_raw(pid, start_month=shifted(current, -4)))) == [("START_TOO_OLD", "start_month")]


@pytest.mark.clock("2026-12-31T16:30:00Z")
def test_suspension_stop_month_limit_is_next_month_in_china():
    suspend = registry.get("suspend")
    params = ParamSnapshot.load()
    row = {"id_type": "01", "id_number": make_resident_id(dt.date(1990, 1, 1)), "name": "张三", "reason": "01"}
    assert suspend.check_row({**row, "stop_month": "2027-02"}, params).issues == []
    late = suspend.check_row({**row, "stop_month": "2027-03"}, params)
    assert [(i.code, i.params.get("latest")) for i in late.issues] == [("STOP_TOO_LATE", "2027-02")]


@pytest.mark.clock("2026-12-31T16:30:00Z")
def test_settings_in_force_are_chinas_today_even_on_a_server_in_utc(monkeypatch):
    """A setting effective from 1 January applies from midnight in China, not in the server's zone."""
    Setting.objects.create(key="draft_expiry_days", value=Decimal(10), effective_from=dt.date(2027, 1, 1))
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        assert os.environ["TZ"] == "UTC" and dt.date.today() == dt.date(2026, 12, 31)
        params = ParamSnapshot.load()
        assert params.setting_int("draft_expiry_days") == 10
        assert params.setting("draft_expiry_days") == Decimal(10)
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.clock("2027-01-20T02:00:00Z")
def test_surcharge_estimate_counts_days_to_chinas_today():
    from shebao.business.enrol import backpay_preview

    employer = EmployerFactory(is_vip=True)
    data = check(
        enrol_raw(
            make_resident_id(dt.date(1980, 1, 1)),
            start_month="2027-01",
            backpay_from="2026-12",
            backpay_base="5000",
            insurance_types="养老",
        )
    ).data
    preview = backpay_preview(ParamSnapshot.load(), data, employer)
    # 2026-12 is due on 2027-01-15: five days late on 20 January; (800 + 400) × 0.05 % × 5.
    assert preview["surcharge"] == Decimal("3.00")


# --- 1 January: provisional limits --------------------------------------------------------


@pytest.mark.clock("2026-12-31T16:30:00Z")
def test_new_year_enrolment_uses_last_years_limits_provisionally_and_records_the_rows():
    """00:30 on 1 January 2027 in China, 2027 limits not published: nothing is refused; the base
    and every line record the 2026 limits row, the rate row and the provisional flag."""
    employer = EmployerFactory(is_vip=True)
    result = check(enrol_raw(make_resident_id(dt.date(1990, 5, 17)), start_month="2027-01", wage="3000"), employer)
    assert codes(result) == [("WAGE_BELOW_FLOOR", "wage"), ("LIMITS_PROVISIONAL", "wage")]
    warning = result.issues[1]
    assert not warning.is_error
    assert warning.message("zh-hans") == (
        "2027 年度缴费基数上下限尚未公布，暂按 2026 年度标准（下限 4498.00 元、上限 22488.00 元）核定缴费基数；"
        "新标准公布后将重新核定，无需重新办理。"
    )
    assert warning.message("en").startswith("The 2027 contribution base limits are not published yet: the 2026 limits")

    tx = enrol_and_finish(
        enrol_raw(make_resident_id(dt.date(1990, 5, 17)), start_month="2027-01", wage="3000"), employer
    )
    item = Item.objects.get(transaction=tx)
    assert "LIMITS_PROVISIONAL" in {i["code"] for i in item.audit_issues}
    limits_2026 = {row.insurance_type: row.pk for row in BaseLimit.objects.filter(year=2026)}
    # One base per insurance type, each on that type's 2026 row, provisionally.
    bases = {b.insurance_type: b for b in ContributionBase.objects.filter(employer=employer)}
    assert set(bases) == set(limits_2026)
    for itype, base in bases.items():
        assert (base.year, base.base, base.limits_id, base.provisional) == (
            2027,
            Decimal("4498.00"),
            limits_2026[itype],
            True,
        )
    lines = ContributionLine.objects.filter(employer=employer)
    assert {(line.month, line.insurance_type) for line in lines} == {
        (dt.date(2027, 1, 1), t) for t in ("pension", "medical", "unemployment", "injury", "maternity")
    }
    rates = {row.insurance_type: row.pk for row in Rate.objects.all()}
    injury_row = InjuryRate.objects.get(risk_class=employer.risk_class).pk
    for line in lines:
        assert line.provisional and line.limits_id == limits_2026[line.insurance_type]
        if line.insurance_type == "injury":
            assert (line.rate_id, line.injury_rate_id) == (None, injury_row)
        else:
            assert (line.rate_id, line.injury_rate_id) == (rates[line.insurance_type], None)
    assert lines.get(insurance_type="pension").employer_amount == Decimal("719.68")  # 4498 × 16 %


@pytest.mark.clock("2027-03-10T02:00:00Z")
def test_once_the_years_limits_are_published_they_apply_and_nothing_is_provisional():
    for itype in ("pension", "medical", "unemployment", "injury", "maternity"):
        BaseLimit.objects.create(
            year=2027,
            insurance_type=itype,
            effective_from=dt.date(2027, 1, 1),
            average_wage=Decimal("7800"),
            floor=Decimal("4680"),
            ceiling=Decimal("23400"),
        )
    employer = EmployerFactory(is_vip=True)
    raw = enrol_raw(make_resident_id(dt.date(1990, 5, 17)), start_month="2027-03", wage="3000")
    assert codes(check(raw, employer)) == [("WAGE_BELOW_FLOOR", "wage")]
    enrol_and_finish(raw, employer)
    base = ContributionBase.objects.get(employer=employer, insurance_type="pension")
    published = BaseLimit.objects.get(year=2027, insurance_type="pension")
    assert (base.base, base.limits_id, base.provisional) == (Decimal("4680.00"), published.pk, False)
    assert not ContributionLine.objects.filter(employer=employer, provisional=True).exists()


@pytest.mark.clock("2027-01-15T02:00:00Z")
def test_back_payment_across_the_new_year_records_each_years_own_row():
    employer = EmployerFactory(is_vip=True)
    raw = enrol_raw(
        make_resident_id(dt.date(1980, 1, 1)),
        start_month="2027-01",
        backpay_from="2026-11",
        backpay_base="5000",
        insurance_types="养老",
    )
    assert codes(check(raw, employer)) == [("LIMITS_PROVISIONAL", "wage")]
    enrol_and_finish(raw, employer)
    row_2026 = BaseLimit.objects.get(year=2026, insurance_type="pension").pk
    lines = ContributionLine.objects.filter(employer=employer).order_by("month")
    assert [(line.month, line.kind, line.limits_id, line.provisional) for line in lines] == [
        (dt.date(2026, 11, 1), "backpay", row_2026, False),
        (dt.date(2026, 12, 1), "backpay", row_2026, False),
        (dt.date(2027, 1, 1), "regular", row_2026, True),
    ]


def test_a_year_before_every_published_one_borrows_the_earliest_and_says_so():
    BaseLimit.objects.filter(year__lt=2026).delete()
    limits = ParamSnapshot.load().base_limits(2019, "pension")
    assert (limits.year, limits.row_year, limits.provisional) == (2019, 2026, True)
    assert ParamSnapshot.load().base_limits(2026, "pension").provisional is False


def test_no_limits_at_all_is_the_only_refusal_for_limits():
    BaseLimit.objects.filter(insurance_type="medical").delete()
    result = check(enrol_raw(make_resident_id(dt.date(1990, 1, 1))))
    assert codes(result) == [("NO_BASE_LIMITS", "insurance_types")]
    assert result.issues[0].is_error
    assert codes(check(enrol_raw(make_resident_id(dt.date(1990, 1, 1)), insurance_types="养老、工伤"))) == []


# --- rates: the newest row in force; a month without one is NO_RATE ----------------------


@pytest.mark.clock("2027-02-10T02:00:00Z")
def test_the_newest_rate_row_in_force_applies_to_each_month():
    old = Rate.objects.get(insurance_type="pension")
    new = Rate.objects.create(
        insurance_type="pension",
        effective_from=dt.date(2027, 1, 1),
        employer_rate=Decimal("0.15"),
        personal_rate=Decimal("0.08"),
    )
    employer = EmployerFactory(is_vip=True)
    enrol_and_finish(
        enrol_raw(
            make_resident_id(dt.date(1980, 1, 1)),
            start_month="2027-01",
            backpay_from="2026-12",
            backpay_base="5000",
            wage="5000",
            insurance_types="养老",
        ),
        employer,
    )
    lines = ContributionLine.objects.filter(employer=employer).order_by("month")
    assert [(line.month, line.rate_id, line.employer_amount) for line in lines] == [
        (dt.date(2026, 12, 1), old.pk, Decimal("800.00")),
        (dt.date(2027, 1, 1), new.pk, Decimal("750.00")),
        (dt.date(2027, 2, 1), new.pk, Decimal("750.00")),
    ]


def test_a_month_without_any_rate_is_no_rate_for_every_month_the_enrolment_computes():
    """Medical rates only from 2026-05: a start in 2026-06 is fine, a back payment from 2026-03 is not."""
    Rate.objects.filter(insurance_type="medical").update(effective_from=dt.date(2026, 5, 1))
    ok = check(enrol_raw(make_resident_id(dt.date(1980, 1, 1)), start_month="2026-06"))
    assert codes(ok) == []
    back = check(
        enrol_raw(
            make_resident_id(dt.date(1980, 1, 1)),
            start_month="2026-06",
            backpay_from="2026-03",
            backpay_base="5000",
            insurance_types="养老、医疗",
        )
    )
    assert codes(back) == [("NO_RATE", "insurance_types")]
    assert back.issues[0].message("zh-hans") == "2026-03 的医疗费率尚未设置，暂不能办理，请联系经办机构。"


def test_work_injury_rate_is_checked_for_the_employers_risk_class():
    InjuryRate.objects.filter(risk_class=3).delete()
    employer = EmployerFactory(is_vip=True)
    employer.risk_class = 3
    employer.save(update_fields=["risk_class"])
    result = check(enrol_raw(make_resident_id(dt.date(1980, 1, 1))), employer)
    assert codes(result) == [("NO_RATE", "insurance_types")]
    assert result.issues[0].message("en") == (
        "No work injury rate is in force for 2026-06; please contact the agency office."
    )
    assert codes(check(enrol_raw(make_resident_id(dt.date(1980, 1, 1))), EmployerFactory(is_vip=True))) == []


def test_a_parameter_row_a_line_was_computed_from_cannot_be_deleted():
    from django.db.models import ProtectedError

    employer = EmployerFactory(is_vip=True)
    enrol_and_finish(enrol_raw(make_resident_id(dt.date(1990, 5, 17)), insurance_types="养老"), employer)
    line = ContributionLine.objects.get(employer=employer)
    with pytest.raises(ProtectedError):
        BaseLimit.objects.get(pk=line.limits_id).delete()
    with pytest.raises(ProtectedError):
        Rate.objects.get(pk=line.rate_id).delete()
    assert BaseLimit.objects.filter(pk=line.limits_id).exists()


@pytest.mark.clock("2026-12-31T16:30:00Z")
def test_a_returned_enrolment_says_its_limits_are_provisional_in_the_return_reasons(client):
    from tests.workflow.helpers import login

    employer = EmployerFactory(is_vip=True)
    user = OperatorFactory(employer=employer)
    raw = enrol_raw(
        make_resident_id(dt.date(1990, 5, 17)), start_month="2027-01", make_card="是"
    )  # no photo: PHOTO_REQUIRED
    saved = services.transaction_save_single(employer=employer, actor=user, business_type="enrol", raw=raw)
    tx = saved.transaction
    services.transaction_submit(tx=tx, actor=user, version=tx.version)
    assert services.run_audit(tx.pk) == "returned"
    tx.refresh_from_db()
    # 回退原因 holds the error; the provisional limits are a warning, shown apart under 提示.
    assert [r["code"] for r in tx.return_reasons] == ["PHOTO_REQUIRED"]
    page = login(client, user, employer).get(f"/tx/{tx.pk}/").content.decode()
    reasons = page.split('data-testid="reasons"')[1].split("</ul>")[0]
    warnings = page.split('data-testid="warnings"')[1].split("</ul>")[0]
    assert "照片" in reasons and "尚未公布" not in reasons
    assert "2027 年度缴费基数上下限尚未公布，暂按 2026 年度标准" in warnings
