"""The row rules of 增员(续保) (DOMAIN §8) through the business type, and the rule catalogue."""

from __future__ import annotations

import datetime as dt
import string
from decimal import Decimal

import pytest
from django.utils import translation

from shebao.core.months import add_months, current_month, format_month
from shebao.params.models import Setting
from shebao.params.services import ParamSnapshot
from shebao.register.models import ContributionBase, ContributionLine
from shebao.workflow import registry, services
from shebao.workflow.models import State
from shebao.workflow.rules import RULES, Issue, Severity, render
from tests.factories import EmployerFactory, OperatorFactory, make_resident_id, seed_params
from tests.workflow.helpers import enrol_raw

pytestmark = pytest.mark.django_db

HMT = "810000199001011230"


@pytest.fixture(autouse=True)
def _params():
    seed_params()


def check(raw: dict):
    return registry.get("enrol").check_row(raw, ParamSnapshot.load())


def codes(result) -> list[tuple[str, str]]:
    return [(i.code, i.field) for i in result.issues]


def assert_renders(result) -> None:
    """Every issue reads as a full sentence in both languages: no placeholder left over."""
    for issue in result.issues:
        for lang in ("zh-hans", "en"):
            text = issue.message(lang)
            assert "{" not in text and "}" not in text, (issue.code, lang, text)


def month(offset: int) -> str:
    return format_month(add_months(current_month(), offset))


# --- a clean row ------------------------------------------------------------------------


def test_clean_row_has_no_issues_and_derives_sex_and_birth():
    result = check(enrol_raw(make_resident_id(dt.date(1990, 5, 17), sex="2"), sex="", birth_date=""))
    assert result.issues == []
    assert result.data["sex"] == "2"
    assert result.data["birth_date"] == "1990-05-17"
    assert result.data["insurance_types"] == "pension,medical,unemployment,injury,maternity"
    assert result.data["start_month"] == format_month(current_month())
    assert result.data["wage"] == "6500.00"


def test_chinese_labels_of_choices_are_accepted():
    result = check(enrol_raw(make_resident_id(dt.date(1990, 5, 17)), sex="男", insurance_types="养老、工伤"))
    assert result.issues == []
    assert result.data["insurance_types"] == "pension,injury"


# --- sex and birth date -----------------------------------------------------------------


def test_sex_mismatch_with_resident_id():
    result = check(enrol_raw(make_resident_id(dt.date(1990, 1, 1)), sex="女"))  # odd 17th digit: male
    assert codes(result) == [("SEX_MISMATCH", "sex")]
    assert result.issues[0].message("zh-hans") == "「性别」与证件号码不一致：号码显示为男。"
    assert result.issues[0].message("en") == "Sex does not match the ID number, which says male."


def test_birth_mismatch_with_resident_id():
    result = check(enrol_raw(make_resident_id(dt.date(1990, 1, 1)), birth_date="1990-01-02"))
    assert codes(result) == [("BIRTH_MISMATCH", "birth_date")]
    assert result.issues[0].message("zh-hans") == "「出生日期」与证件号码不一致：号码显示为 1990-01-01。"


def test_matching_sex_and_birth_are_accepted():
    result = check(enrol_raw(make_resident_id(dt.date(1990, 1, 1)), sex="1", birth_date="1990/1/1"))
    assert result.issues == []


@pytest.mark.parametrize("id_type,number", [("02", HMT), ("03", "936156199001011230")])
def test_other_id_types_require_sex_and_birth_date(id_type, number):
    result = check(enrol_raw(number, id_type=id_type))
    assert codes(result) == [("REQUIRED", "sex"), ("REQUIRED", "birth_date")]
    assert result.issues[0].message("zh-hans") == "「性别」为必填项，请填写。"
    assert result.issues[1].message("en") == "Birth date is required; please fill it in."
    result = check(enrol_raw(number, id_type=id_type, sex="女", birth_date="1990-01-01"))
    assert result.issues == []
    assert result.data["sex"] == "2"


def test_id_errors_are_reported_on_the_id_field():
    result = check(enrol_raw("42010219900101123X"))
    assert codes(result) == [("ID_CHECKSUM", "id_number")]
    result = check(enrol_raw(1.101051966011026e17))
    assert codes(result) == [("ID_NUMERIC_CELL", "id_number")]
    assert "文本" in result.issues[0].message("zh-hans")


# --- age --------------------------------------------------------------------------------


def test_under_16_at_the_start_month():
    now = current_month()
    birth = dt.date(now.year - 16, now.month, 1) + dt.timedelta(days=40)  # 16 next month
    result = check(enrol_raw(make_resident_id(birth), first_work_date=now.isoformat()))
    assert ("AGE_UNDER_MIN", "start_month") in codes(result)
    issue = next(i for i in result.issues if i.code == "AGE_UNDER_MIN")
    assert issue.params == {
        "label": {"t": "参保起始年月"},
        "min_age": 16,
        "birth": birth.isoformat(),
    }
    assert_renders(result)


def test_sixteen_in_the_start_month_is_old_enough():
    now = current_month()
    birth = dt.date(now.year - 16, now.month, 1)
    result = check(enrol_raw(make_resident_id(birth), first_work_date=now.isoformat()))
    assert result.issues == []


def test_past_retirement_age_with_pension_is_a_warning_at_the_row_check_and_the_audit_decides():
    """Before 延长缴费, a start past the statutory month was refused here (AGE_OVER_RETIREMENT).
    Now only the audit, which sees the paid months on the register, can tell whether the
    person may go on contributing: the row check warns and neither saving nor an import is
    blocked (the audit's outcomes: tests/business/test_enrol_retirement_age.py)."""
    # A man born 1960-01 reached 60 in 2020-01, before the reform.
    result = check(enrol_raw(make_resident_id(dt.date(1960, 1, 15))))
    assert codes(result) == [("AGE_OVER_RETIREMENT_CHECK", "insurance_types")]
    assert result.issues[0].severity == Severity.WARNING
    assert result.issues[0].message("zh-hans").startswith("该人员已于 2020-01 达到法定退休年龄：提交审批后")


def test_past_retirement_age_with_injury_only_is_a_warning():
    result = check(enrol_raw(make_resident_id(dt.date(1960, 1, 15)), insurance_types="工伤"))
    assert codes(result) == [("AGE_OVER_RETIREMENT_INJURY", "insurance_types")]
    assert result.issues[0].severity == Severity.WARNING
    assert result.issues[0].message("zh-hans") == "该人员已于 2020-01 达到法定退休年龄，仅参加工伤保险。"


def test_woman_worker_retires_earlier_than_a_cadre():
    """The worker is past her statutory month (the row check's warning; the audit decides
    since 延长缴费), the cadre is not."""
    birth = dt.date(1974, 3, 3)  # female worker: 50 in 2024-03; female cadre: 55 in 2029-03
    number = make_resident_id(birth, sex="2")
    assert codes(check(enrol_raw(number, identity="工人"))) == [("AGE_OVER_RETIREMENT_CHECK", "insurance_types")]
    assert check(enrol_raw(number, identity="干部")).issues == []


# --- retirement-age arithmetic (the 2025 reform) --------------------------------------


@pytest.mark.parametrize(
    "sex,identity,birth,retire",
    [
        ("1", "worker", dt.date(1960, 5, 20), dt.date(2020, 5, 1)),  # before the reform: 60
        ("1", "worker", dt.date(1964, 12, 31), dt.date(2024, 12, 1)),
        ("1", "worker", dt.date(1965, 1, 1), dt.date(2025, 2, 1)),  # 60 years 1 month
        ("1", "worker", dt.date(1965, 4, 1), dt.date(2025, 5, 1)),  # still +1 month
        ("1", "worker", dt.date(1965, 5, 1), dt.date(2025, 7, 1)),  # +2 months
        ("1", "worker", dt.date(1976, 8, 1), dt.date(2039, 7, 1)),  # 62 years 11 months
        ("1", "worker", dt.date(1976, 9, 1), dt.date(2039, 9, 1)),  # 63
        ("1", "worker", dt.date(1990, 1, 1), dt.date(2053, 1, 1)),  # capped at 63
        ("2", "worker", dt.date(1974, 12, 1), dt.date(2024, 12, 1)),  # 50, before the reform
        ("2", "worker", dt.date(1975, 1, 1), dt.date(2025, 2, 1)),  # 50 years 1 month
        ("2", "worker", dt.date(1975, 3, 1), dt.date(2025, 5, 1)),  # 50 years 2 months
        ("2", "worker", dt.date(1984, 12, 1), dt.date(2039, 12, 1)),  # 55
        ("2", "worker", dt.date(1995, 6, 1), dt.date(2050, 6, 1)),  # capped at 55
        ("2", "cadre", dt.date(1970, 1, 1), dt.date(2025, 2, 1)),  # 55 years 1 month
        ("2", "cadre", dt.date(1981, 9, 1), dt.date(2039, 9, 1)),  # 58
    ],
)
def test_retirement_month(sex, identity, birth, retire):
    assert ParamSnapshot.load().retirement_month(sex=sex, identity=identity, birth_date=birth) == retire


# --- start month and back payment -------------------------------------------------------


@pytest.mark.parametrize(
    "instant",
    [
        pytest.param(None, id="pinned"),
        # December: next month is in a year whose limits are not seeded (once NO_BASE_LIMITS joined).
        pytest.param("2026-12-15T02:00:00Z", id="december"),
        pytest.param("2026-12-31T16:30:00Z", id="new-year-in-china"),
    ],
)
def test_start_month_in_the_future(pinned_clock, instant):
    if instant:
        pinned_clock.move_to(dt.datetime.fromisoformat(instant))
    result = check(enrol_raw(make_resident_id(dt.date(1990, 1, 1)), start_month=month(1)))
    assert codes(result) == [("START_IN_FUTURE", "start_month")]
    assert result.issues[0].message("zh-hans") == f"「参保起始年月」不能晚于当前月份 {month(0)}。"


def test_start_three_months_back_needs_no_back_payment():
    assert check(enrol_raw(make_resident_id(dt.date(1990, 1, 1)), start_month=month(-3))).issues == []


def test_start_more_than_three_months_back_needs_back_payment():
    result = check(enrol_raw(make_resident_id(dt.date(1990, 1, 1)), start_month=month(-4)))
    assert codes(result) == [("START_TOO_OLD", "start_month")]
    assert result.issues[0].message("zh-hans") == (
        "「参保起始年月」早于当前月份超过 3 个月，请改为近 3 个月内；"
        "更早的月份请填写「追溯补缴」（补缴起始年月、补缴基数）。"
    )


def test_recent_start_with_complete_back_payment_is_accepted():
    raw = enrol_raw(
        make_resident_id(dt.date(1990, 1, 1)),
        start_month=month(-3),
        backpay_from=month(-8),
        backpay_base="5000",
        insurance_types="养老、医疗",
    )
    assert check(raw).issues == []


def test_a_back_payment_does_not_make_an_old_start_month_acceptable():
    raw = enrol_raw(
        make_resident_id(dt.date(1990, 1, 1)),
        start_month=month(-5),
        backpay_from=month(-8),
        backpay_base="5000",
        insurance_types="养老",
    )
    assert codes(check(raw)) == [("START_TOO_OLD", "start_month")]


@pytest.mark.parametrize("given,missing", [("backpay_from", "backpay_base"), ("backpay_base", "backpay_from")])
def test_back_payment_incomplete(given, missing):
    extra = {"backpay_from": month(-4)} if given == "backpay_from" else {"backpay_base": "5000"}
    result = check(enrol_raw(make_resident_id(dt.date(1990, 1, 1)), start_month=month(-1), **extra))
    assert codes(result) == [("BACKPAY_INCOMPLETE", missing)]
    assert result.issues[0].message("zh-hans") == "「追溯补缴」须同时填写补缴起始年月和补缴基数。"


def test_back_payment_from_the_start_month_or_later():
    for since in (month(-1), month(0)):
        result = check(
            enrol_raw(
                make_resident_id(dt.date(1990, 1, 1)), start_month=month(-1), backpay_from=since, backpay_base="5000"
            )
        )
        assert codes(result) == [("BACKPAY_AFTER_START", "backpay_from")]
        assert result.issues[0].message("zh-hans") == f"「补缴起始年月」须早于「参保起始年月」{month(-1)}。"


def test_back_payment_before_the_first_work_date():
    result = check(
        enrol_raw(
            make_resident_id(dt.date(1990, 1, 1)),
            first_work_date="2026-01-01",
            start_month=month(-1),
            backpay_from="2025-06",
            backpay_base="5000",
        )
    )
    assert ("BACKPAY_BEFORE_WORK_AGE", "backpay_from") in codes(result)
    assert_renders(result)


# --- wage -------------------------------------------------------------------------------


def test_wage_below_floor_is_a_warning():
    result = check(enrol_raw(make_resident_id(dt.date(1990, 1, 1)), wage="3000"))
    assert codes(result) == [("WAGE_BELOW_FLOOR", "wage")]
    issue = result.issues[0]
    assert issue.severity == Severity.WARNING
    year = current_month().year
    assert issue.message("zh-hans") == (
        f"「申报月工资」3000.00 元低于 {year} 年缴费基数下限 4498.00 元，按下限 4498.00 元核定。"
    )


def test_wage_above_ceiling_is_a_warning():
    result = check(enrol_raw(make_resident_id(dt.date(1990, 1, 1)), wage="30,000"))
    assert codes(result) == [("WAGE_ABOVE_CEILING", "wage")]
    assert not result.issues[0].is_error


def test_wage_within_limits_including_the_limits_themselves():
    for wage in ("4498", "22488", "10000.55"):
        assert check(enrol_raw(make_resident_id(dt.date(1990, 1, 1)), wage=wage)).issues == []


def test_wage_out_of_range_is_an_error_when_the_setting_says_so():
    Setting.objects.create(key="wage_out_of_range_is_error", value=Decimal(1), effective_from=dt.date(2020, 1, 1))
    for wage in ("3000", "30000"):
        result = check(enrol_raw(make_resident_id(dt.date(1990, 1, 1)), wage=wage))
        assert codes(result) == [("WAGE_OUT_OF_RANGE", "wage")]
        assert result.issues[0].is_error
        assert_renders(result)
    assert check(enrol_raw(make_resident_id(dt.date(1990, 1, 1)), wage="6500")).issues == []


def test_wage_below_floor_is_clamped_when_applied():
    employer = EmployerFactory(is_vip=True)
    user = OperatorFactory(employer=employer)
    saved = services.transaction_save_single(
        employer=employer,
        actor=user,
        business_type="enrol",
        raw=enrol_raw(make_resident_id(dt.date(1990, 5, 17)), wage="3000"),
    )
    assert saved.ok
    tx = saved.transaction
    services.transaction_submit(tx=tx, actor=user, version=tx.version)
    assert services.run_audit(tx.pk) == "finished"
    tx.refresh_from_db()
    assert tx.state == State.FINISHED
    base = ContributionBase.objects.get(employer=employer, insurance_type="pension")
    assert base.declared_wage == Decimal("3000.00")
    assert base.base == Decimal("4498.00")
    lines = ContributionLine.objects.filter(employer=employer)
    assert lines.count() == 5
    assert {line.base for line in lines} == {Decimal("4498.00")}
    pension = lines.get(insurance_type="pension")
    assert pension.employer_amount == Decimal("719.68")  # 4498 × 16 %
    assert pension.personal_amount == Decimal("359.84")  # 4498 × 8 %


# --- the catalogue ----------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(RULES))
def test_every_rule_renders_in_both_languages(code):
    rule = RULES[code]
    assert rule.code == code
    assert rule.severity in (Severity.ERROR, Severity.WARNING)
    for lang in ("zh-hans", "en"):
        assert render(code, "", {}, lang)  # no KeyError with empty params
        with translation.override(lang):
            assert Issue(code, "x").message()
    with translation.override("en"):
        english = rule.text()
    names = {name for _, name, _, _ in string.Formatter().parse(rule.message) if name}
    names_en = {name for _, name, _, _ in string.Formatter().parse(english) if name}
    assert names_en <= names | {"label"}, f"{code}: English uses parameters the Chinese text does not"
    assert names <= names_en | {"label"}, f"{code}: English leaves out parameters of the Chinese text"
    params = {name: f"〈{name}〉" for name in names | names_en}
    zh, en = render(code, "", params, "zh-hans"), render(code, "", params, "en")
    assert "{" not in zh and "{" not in en
    assert zh != en
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), f"{code}: Chinese message has no Chinese"
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in en), f"{code}: English message has Chinese in it"
    for name in names:
        if name != "label":
            assert f"〈{name}〉" in zh and f"〈{name}〉" in en


def test_nul_characters_never_reach_the_stored_data():
    result = check(
        enrol_raw(
            make_resident_id(dt.date(1990, 1, 1)),
            address="武汉市\x00江岸区",
            name="张\x00三",
            phone="\x00",
            hukou="城镇\x00",
        )
    )
    assert codes(result) == [("REQUIRED", "phone")]
    assert result.data["address"] == "武汉市江岸区"
    assert result.data["name"] == "张三"
    assert result.data["hukou"] == "urban"
    assert all("\x00" not in str(v) for v in result.data.values())
