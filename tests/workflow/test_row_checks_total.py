"""The row checks of every registered business type are total: whatever a cell holds, no
exception escapes `check_row`, and what it returns can be stored and checked again.

A spreadsheet cell can hold text of any character, numbers of any size (1e300, 400 digits,
NaN, inf), dates of any year, booleans, formulas and nothing. A row check that raises on one
of them once took a whole batch import down with it (`'养老、工商' is not a valid
InsuranceType`); a check is a function from a row to issues, never an exception.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shebao.params.services import ParamSnapshot
from shebao.workflow import registry
from shebao.workflow.fields import FieldSpec
from shebao.workflow.rules import RULES
from tests.factories import make_resident_id

pytestmark = pytest.mark.django_db

PROPERTY = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

FULLWIDTH_DIGITS = str.maketrans("0123456789-.", "０１２３４５６７８９－．")
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"

HOSTILE = [
    "",
    " ",
    "\x00",
    "\t\r\n",
    "=1+1",
    '=HYPERLINK("http://x")',
    "+1",
    "-1",
    "@SUM(A1)",
    "'0123",
    "养老、工商",
    "养老，，工伤",
    "、",
    "养老保险、医疗保险",
    "1e300",
    "-1e300",
    "1e-300",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "9" * 400,
    "-" + "9" * 400,
    "9" * 5000,
    "0." + "0" * 400 + "1",
    str(10**26),
    "99999999999.99",
    "9999999999.995",
    "0000-00",
    "0000-01-01",
    "9999-12",
    "99999-01",
    "2025-13",
    "2025-02-30",
    "1899-12-31",
    "2201-01-01",
    "１２３４５",
    "２０２５年３月",
    "Ｘ",
    "𠀾",
    "\u202e张三",
    "\ufeff",
    "a" * 5000,
    "420102199001011236",
    "11010519491231002x",
    "130503670401001",
    "1.101051966011026e+17",
    "01",
    "1",
    "02",
    "03",
    "99",
    "男",
    "女",
    "是",
    "否",
    "true",
    "None",
]

# Cells of every kind a reader or a form can hand over.
cells = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e300, -1e300, float("nan"), float("inf"), float("-inf"), 1e-300, 1e15, 1.101051966011026e17]),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.dates(),
    st.datetimes(),
    st.sampled_from([dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.datetime(1, 1, 1), dt.datetime.max]),
    st.times(),
    st.timedeltas(),
    st.text(),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp"]), max_size=20),
    st.text(alphabet=st.sampled_from(BIDI + "张三0123456789-"), max_size=20),
    st.from_regex(r"[0-9]{1,20}(\.[0-9]{1,4})?", fullmatch=True).map(lambda s: s.translate(FULLWIDTH_DIGITS)),
    st.sampled_from(HOSTILE),
)


def _labels(spec: FieldSpec) -> list[str]:
    if not spec.choices:
        return []
    return [value for value, _label in spec.choices.choices] + spec.choice_labels()


def plausible(spec: FieldSpec) -> st.SearchStrategy:
    """Values that pass the field's format check, so that the later rules run too."""
    years = st.integers(min_value=1900, max_value=2200)
    dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31))
    if spec.kind in ("choice", "id_type", "bool"):
        return st.sampled_from(_labels(spec))
    if spec.kind == "insurance":
        return st.lists(st.sampled_from(_labels(spec)), max_size=5).map("、".join)
    if spec.kind == "id_number":
        return st.builds(
            make_resident_id,
            st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2030, 12, 31)),
            st.sampled_from(["1", "2"]),
            st.integers(min_value=0, max_value=499),
        )
    if spec.kind == "name":
        return st.sampled_from(["张三", "李四", "欧阳娜娜", "John Smith", "阿依古丽·买买提"])
    if spec.kind == "month":
        return st.one_of(st.builds(lambda y, m: f"{y}-{m:02d}", years, st.integers(1, 12)), dates)
    if spec.kind == "date":
        return st.one_of(dates.map(dt.date.isoformat), dates)
    if spec.kind == "money":
        return st.one_of(
            st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=2).map(str),
            st.floats(min_value=-1e12, max_value=1e12),
        )
    if spec.kind == "phone":
        return st.sampled_from(["13800000000", "027-85551234", "85551234"])
    return st.text(max_size=30)


def rows(business: registry.BusinessType) -> st.SearchStrategy:
    return st.fixed_dictionaries(
        {}, optional={spec.name: st.one_of(plausible(spec), cells) for spec in specs_of(business)}
    )


def specs_of(business: registry.BusinessType) -> list:
    """The row's fields and the header's: the row rules see both (e.g. the declared year)."""
    return [*business.header_fields, *business.fields]


def assert_total(business: registry.BusinessType, raw: dict, params: ParamSnapshot, employer) -> None:
    result = business.check_row(raw, params, employer)
    # What an import stores: the data and the issues as JSON, every message renderable.
    json.dumps(result.data, allow_nan=False)
    json.dumps([issue.as_dict() for issue in result.issues], allow_nan=False)
    assert all(isinstance(value, str) for value in result.data.values()), result.data
    for issue in result.issues:
        assert issue.code in RULES
        issue.message("zh-hans")
        issue.message("en")
    # The audit checks the stored row again: that must hold as well.
    again = business.check_row(dict(result.data), params, employer)
    json.dumps([issue.as_dict() for issue in again.issues], allow_nan=False)


BUSINESS_TYPES = registry.all_types()


def test_every_business_module_is_registered():
    """The property below runs over the registry: it must hold what apps.py imports."""
    assert {b.code for b in BUSINESS_TYPES} >= {"enrol", "suspend"}


@pytest.fixture
def world(params, vip_employer):
    return params, vip_employer


@pytest.mark.parametrize("business", BUSINESS_TYPES, ids=[b.code for b in BUSINESS_TYPES])
@PROPERTY
@given(data=st.data())
def test_no_cell_makes_a_row_check_raise(world, business, data):
    params, employer = world
    raw = data.draw(rows(business), label="row")
    assert_total(business, raw, params, employer)


@pytest.mark.parametrize("business", BUSINESS_TYPES, ids=[b.code for b in BUSINESS_TYPES])
@PROPERTY
@given(data=st.data())
def test_one_hostile_cell_in_an_otherwise_plausible_row(world, business, data):
    """Every field plausible but one: the rules that read the others run on a row with one
    bad value (the shape of the 参保险种 typo that crashed the enrolment rules)."""
    params, employer = world
    raw = {spec.name: data.draw(plausible(spec), label=spec.name) for spec in specs_of(business)}
    name = data.draw(st.sampled_from([spec.name for spec in specs_of(business)]), label="hostile field")
    raw[name] = data.draw(cells, label="hostile cell")
    assert_total(business, raw, params, employer)


HEADED = [b for b in BUSINESS_TYPES if b.header_fields]


@pytest.mark.parametrize("business", HEADED, ids=[b.code for b in HEADED])
@PROPERTY
@given(data=st.data())
def test_no_cell_makes_a_header_check_raise(world, business, data):
    params, _employer = world
    raw = {spec.name: data.draw(st.one_of(plausible(spec), cells), label=spec.name) for spec in business.header_fields}
    result = business.check_header(raw, params)
    json.dumps(result.data, allow_nan=False)
    for issue in result.issues:
        assert issue.code in RULES
        issue.message("zh-hans")
        issue.message("en")


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("insurance_types", "养老、工商", "INSURANCE_TYPES"),
        ("wage", str(10**26), "MONEY_FORMAT"),
        ("wage", 10**26, "MONEY_FORMAT"),
        ("wage", 1e300, "MONEY_FORMAT"),
        ("wage", "9" * 400, "MONEY_FORMAT"),
        ("wage", "10000000000", "MONEY_FORMAT"),  # one yuan more than the register can store
        ("backpay_base", "1e300", "MONEY_FORMAT"),
        ("start_month", dt.date(9999, 12, 1), "MONTH_FORMAT"),
        ("start_month", dt.datetime(1, 1, 1), "MONTH_FORMAT"),
        ("first_work_date", dt.date(9999, 12, 31), "DATE_FORMAT"),
        ("first_work_date", "0000-01-01", "DATE_FORMAT"),
        ("backpay_from", dt.date(1, 1, 1), "MONTH_FORMAT"),
        ("hukou", "9" * 5000, "CHOICE"),
    ],
)
def test_each_bad_enrolment_cell_is_its_fields_own_error(world, field, value, code):
    from tests.factories import make_resident_id
    from tests.workflow.helpers import enrol_raw

    params, employer = world
    raw = enrol_raw(make_resident_id(dt.date(1990, 5, 17)), backpay_from="", backpay_base="")
    raw[field] = value
    if field == "backpay_base":
        raw["backpay_from"] = "2020-01"
    result = registry.get("enrol").check_row(raw, params, employer)
    assert (code, field) in [(i.code, i.field) for i in result.issues]


def test_a_birth_date_in_year_9999_is_a_date_error_not_a_crash(world):
    """A typed birth date (not derived from a resident ID) feeds the age rules."""
    params, employer = world
    raw = {
        "id_type": "02",
        "id_number": "810000199001011230",
        "name": "张三",
        "sex": "男",
        "birth_date": dt.date(9999, 12, 31),
        "hukou": "城镇",
        "identity": "工人",
        "employment_form": "劳动合同",
        "first_work_date": "2012-07-01",
        "start_month": "2025-01",
        "wage": "6500",
        "phone": "13800000000",
    }
    result = registry.get("enrol").check_row(raw, params, employer)
    assert ("DATE_FORMAT", "birth_date") in [(i.code, i.field) for i in result.issues]


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("stop_types", "养老、工商", "INSURANCE_TYPES"),
        ("stop_month", dt.date(9999, 12, 1), "MONTH_FORMAT"),
        ("reason", "9" * 5000, "CHOICE"),
        ("id_type", "9" * 5000, "CHOICE"),
    ],
)
def test_each_bad_suspension_cell_is_its_fields_own_error(world, field, value, code):
    from tests.factories import make_resident_id

    params, employer = world
    raw = {
        "id_type": "01",
        "id_number": make_resident_id(dt.date(1990, 5, 17)),
        "name": "张三",
        "stop_month": "2025-01",
        "reason": "04",
        "stop_types": "",
    }
    raw[field] = value
    result = registry.get("suspend").check_row(raw, params, employer)
    assert (code, field) in [(i.code, i.field) for i in result.issues]


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("9999999999.99", Decimal("9999999999.99")),
        ("0.01", Decimal("0.01")),
        ("6,500", Decimal("6500")),
        (6500.5, Decimal("6500.5")),
        ("10000000000", None),
        (1e300, None),
        ("9" * 400, None),
        (float("nan"), None),
    ],
)
def test_amounts_up_to_what_the_register_stores_are_money(amount, expected):
    from shebao.core.money import parse_money

    assert parse_money(amount) == expected
