"""Enrolment rules an outside audit found gaps in (issue 8 §6): backdating, ages by day, work
injury back payment, the name check that must not leak the register, the back-payment base."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from shebao.business.enrol import backpay_preview
from shebao.core.months import add_months, anniversary, current_month, format_month, month_range
from shebao.params.models import Setting
from shebao.params.services import ParamSnapshot
from shebao.register.models import ContributionLine, LineKind
from shebao.workflow import services
from shebao.workflow.models import Event, State
from tests.core.test_enrol_rules import check, codes, month
from tests.factories import EmployerFactory, OperatorFactory, PersonFactory, make_resident_id, seed_params
from tests.workflow.helpers import enrol_raw

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _params():
    seed_params()


def submit_vip(raw: dict):
    employer = EmployerFactory(is_vip=True)
    user = OperatorFactory(employer=employer)
    saved = services.transaction_save_single(employer=employer, actor=user, business_type="enrol", raw=raw)
    assert saved.ok, saved.issues
    tx = saved.transaction
    services.transaction_submit(tx=tx, actor=user, version=tx.version)
    outcome = services.run_audit(tx.pk)
    tx.refresh_from_db()
    return outcome, tx


# --- backdating never bypasses review ---------------------------------------------------


def test_a_backdated_start_and_its_back_payment_count_together_for_review():
    # 3 backdated start months + 4 back-paid months = 7 retroactive months > 6: a clerk looks,
    # even for a VIP employer (before, only the 4 back-paid months counted).
    raw = enrol_raw(
        make_resident_id(dt.date(1990, 1, 1)),
        start_month=month(-3),
        backpay_from=month(-7),
        backpay_base="6500",
        insurance_types="养老",
    )
    outcome, tx = submit_vip(raw)
    assert outcome == "review"
    assert tx.state == State.REVIEW
    assert "追溯缴费" in Event.objects.get(transaction=tx, action="to_review").reason
    assert not ContributionLine.objects.filter(transaction=tx).exists()


def test_six_retroactive_months_finish_automatically_for_a_vip_employer():
    raw = enrol_raw(
        make_resident_id(dt.date(1990, 1, 1)),
        start_month=month(-3),
        backpay_from=month(-6),
        backpay_base="6500",
        insurance_types="养老",
    )
    outcome, tx = submit_vip(raw)
    assert outcome == "finished"
    lines = ContributionLine.objects.filter(transaction=tx)
    assert sorted(format_month(m) for m in lines.filter(kind=LineKind.BACKPAY).values_list("month", flat=True)) == [
        month(-6),
        month(-5),
        month(-4),
    ]
    assert lines.filter(kind=LineKind.REGULAR).count() == 4  # -3 … 0


def test_the_surcharge_estimate_covers_backdated_start_months_too():
    employer = EmployerFactory(is_vip=True)
    params = ParamSnapshot.load()
    data = check(
        enrol_raw(
            make_resident_id(dt.date(1990, 1, 1)),
            start_month=month(-3),
            backpay_from=month(-5),
            backpay_base="6500",
            insurance_types="养老",
        )
    ).data
    preview = backpay_preview(params, data, employer, today=current_month() + dt.timedelta(days=27))
    assert [format_month(line.month) for line in preview["lines"]] == [month(n) for n in range(-5, 0)]
    # Each month is due on the 15th of the next: pension 6500 × 24 % = 1560 a month.
    today = current_month() + dt.timedelta(days=27)
    expected = sum(
        Decimal("1560.00")
        * Decimal("0.0005")
        * (today - add_months(dt.date.fromisoformat(m + "-01"), 1).replace(day=15)).days
        for m in (month(n) for n in range(-5, 0))
    )
    assert preview["surcharge"] == expected.quantize(Decimal("0.01"))
    # Without any back payment, a start two months back is paid late as well.
    backdated = backpay_preview(
        params, {**data, "start_month": month(-2), "backpay_from": "", "backpay_base": ""}, employer, today=today
    )
    assert [format_month(line.month) for line in backdated["lines"]] == [month(-2), month(-1)]
    assert backdated["surcharge"] > 0


# --- ages by day ------------------------------------------------------------------------


def test_first_work_date_before_the_sixteenth_birthday_by_day():
    number = make_resident_id(dt.date(2010, 12, 31))
    early = check(enrol_raw(number, first_work_date="2026-12-01", start_month="2026-12"))
    assert ("WORK_BEFORE_MIN_AGE", "first_work_date") in codes(early)
    on_the_day = check(enrol_raw(number, first_work_date="2026-12-31", start_month="2026-12"))
    assert ("WORK_BEFORE_MIN_AGE", "first_work_date") not in codes(on_the_day)
    assert ("AGE_UNDER_MIN", "start_month") not in codes(on_the_day)  # 16 within the start month


def test_a_leap_day_birthday_falls_on_1_march_in_a_common_year():
    assert anniversary(dt.date(2008, 2, 29), 16) == dt.date(2024, 2, 29)
    assert anniversary(dt.date(2008, 2, 29), 17) == dt.date(2025, 3, 1)
    assert anniversary(dt.date(9990, 1, 1), 16) == dt.date.max
    number = make_resident_id(dt.date(2008, 2, 29))
    assert ("WORK_BEFORE_MIN_AGE", "first_work_date") in codes(check(enrol_raw(number, first_work_date="2024-02-28")))
    assert ("WORK_BEFORE_MIN_AGE", "first_work_date") not in codes(
        check(enrol_raw(number, first_work_date="2024-02-29"))
    )


PAST_RETIREMENT = {
    "AGE_OVER_RETIREMENT",
    "AGE_OVER_RETIREMENT_CHECK",
    "AGE_OVER_RETIREMENT_INJURY",
    "AGE_DELAY_AGREEMENT",
    "AGE_OVER_DELAY_LIMIT",
}


def test_the_retirement_month_is_still_a_contributing_month():
    """The month after it is past retirement: since 延长缴费 the row check warns
    (AGE_OVER_RETIREMENT_CHECK) and the audit refuses or accepts by the paid months."""
    birth = dt.date(1965, 1, 1)
    retire = ParamSnapshot.load().retirement_month(sex="1", identity="worker", birth_date=birth)
    assert retire == dt.date(2025, 2, 1)
    number = make_resident_id(birth)
    at_retirement = check(enrol_raw(number, start_month="2025-02", first_work_date="1985-07-01"))
    assert not {c for c, _ in codes(at_retirement)} & PAST_RETIREMENT
    after = check(enrol_raw(number, start_month="2025-03", first_work_date="1985-07-01"))
    assert ("AGE_OVER_RETIREMENT_CHECK", "insurance_types") in codes(after)


def test_no_back_payment_after_the_retirement_month():
    birth = dt.date(1965, 1, 1)  # retires 2025-02
    raw = enrol_raw(
        make_resident_id(birth),
        start_month="2025-05",
        backpay_from="2025-01",
        backpay_base="6000",
        insurance_types="工伤",
        first_work_date="1985-07-01",
    )
    issue = next(i for i in check(raw).issues if i.code == "BACKPAY_AFTER_RETIREMENT")
    assert issue.params["month"] == "2025-03"


# --- work injury back payment -----------------------------------------------------------


def test_work_injury_is_left_out_of_a_back_payment_by_default():
    raw = enrol_raw(
        make_resident_id(dt.date(1990, 1, 1)), start_month=month(-1), backpay_from=month(-3), backpay_base="6500"
    )
    result = check(raw)
    assert codes(result) == [("INJURY_BACKPAY_EXCLUDED", "backpay_from")]
    assert not result.issues[0].is_error
    outcome, tx = submit_vip(raw)
    assert outcome == "finished"
    back = ContributionLine.objects.filter(transaction=tx, kind=LineKind.BACKPAY)
    assert set(back.values_list("insurance_type", flat=True)) == {"pension", "medical", "unemployment", "maternity"}
    assert back.count() == 2 * 4
    regular = ContributionLine.objects.filter(transaction=tx, kind=LineKind.REGULAR, insurance_type="injury")
    assert regular.count() == 2  # -1 and 0: work injury from the start month


def test_injury_only_back_payment_is_refused():
    raw = enrol_raw(
        make_resident_id(dt.date(1960, 1, 1)),
        start_month=month(-1),
        backpay_from=month(-3),
        backpay_base="6500",
        insurance_types="工伤",
    )
    result = check(raw)
    assert ("INJURY_BACKPAY_NOT_ALLOWED", "backpay_from") in codes(result)
    assert ("AGE_OVER_RETIREMENT_INJURY", "insurance_types") in codes(result)  # past retirement: still a warning


def test_a_parameter_allows_work_injury_back_payment():
    Setting.objects.create(key="injury_backpay_allowed", value=Decimal(1), effective_from=dt.date(2020, 1, 1))
    raw = enrol_raw(
        make_resident_id(dt.date(1990, 1, 1)), start_month=month(-1), backpay_from=month(-3), backpay_base="6500"
    )
    assert check(raw).issues == []
    outcome, tx = submit_vip(raw)
    assert outcome == "finished"
    assert ContributionLine.objects.filter(transaction=tx, kind=LineKind.BACKPAY, insurance_type="injury").count() == 2


# --- the register's name never leaks ----------------------------------------------------


def test_a_name_mismatch_does_not_show_the_registered_name():
    number = make_resident_id(dt.date(1988, 3, 3))
    PersonFactory(id_number=number, name="欧阳娜娜", sex="2", birth_date=dt.date(1988, 3, 3))
    outcome, tx = submit_vip(enrol_raw(number, name="李四"))
    assert outcome == "returned"
    assert [r["code"] for r in tx.return_reasons] == ["PERSON_MISMATCH"]
    from shebao.workflow.rules import issues_from

    for lang in ("zh-hans", "en"):
        text = issues_from(tx.return_reasons)[0].message(lang)
        assert "欧阳娜娜" not in text and "李四" in text
    assert "registered" not in tx.return_reasons[0]["params"]


# --- the back-payment base against the floor --------------------------------------------


def test_a_back_payment_base_below_the_floor_gets_the_floor_warning():
    raw = enrol_raw(
        make_resident_id(dt.date(1990, 1, 1)),
        start_month=month(-1),
        backpay_from=month(-3),
        backpay_base="3000",
        insurance_types="养老",
    )
    result = check(raw)
    assert codes(result) == [("WAGE_BELOW_FLOOR", "backpay_base")]
    issue = result.issues[0]
    assert not issue.is_error
    year = add_months(current_month(), -3).year
    assert issue.message("zh-hans") == (
        f"「补缴基数」3000.00 元低于 {year} 年缴费基数下限 4498.00 元，按下限 4498.00 元核定。"
    )
    assert (
        issue.message("en")
        == f"Back payment base 3000.00 is below the {year} floor 4498.00; the base is set to 4498.00."
    )
    months = month_range(add_months(current_month(), -3), add_months(current_month(), -1))
    assert len(months) == 2
