"""Months, dates and money as users type them and as spreadsheets deliver them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from shebao.core.money import fen, parse_money
from shebao.core.months import add_months, format_month, month_range, months_between, parse_date, parse_month
from shebao.workflow.fields import FieldSpec, normalise_row


@pytest.mark.parametrize(
    "value",
    [
        "2024-03",
        "2024-3",
        "2024/03",
        "2024/3",
        "2024.3",
        "202403",
        "2024年3月",
        "2024年03月",
        "2024 年 3 月",
        "２０２４－０３",
        "２０２４年３月",
        "２０２４／３",
        " 2024-03 ",
        "2024-03-15",
        "2024/3/1",
        "2024年3月15日",
        "20240315",
        "2024-03-01 00:00:00",
        dt.date(2024, 3, 31),
        dt.datetime(2024, 3, 9, 12, 30),
    ],
)
def test_month_formats(value):
    assert parse_month(value) == dt.date(2024, 3, 1)


@pytest.mark.parametrize(
    "value",
    [
        "",
        None,
        "2024",
        "2024-13",
        "2024-00",
        "202413",
        "March 2024",
        "24-03",
        "2024-02-30",
        "1899-12",
        "abc",
        "2024年13月",
        "2024--03",
    ],
)
def test_unreadable_months(value):
    assert parse_month(value) is None


@pytest.mark.parametrize(
    "value,expected",
    [
        ("2000-01-31", dt.date(2000, 1, 31)),
        ("2000/1/31", dt.date(2000, 1, 31)),
        ("2000.01.31", dt.date(2000, 1, 31)),
        ("20000131", dt.date(2000, 1, 31)),
        ("2000年1月31日", dt.date(2000, 1, 31)),
        ("２０００－０１－３１", dt.date(2000, 1, 31)),
        ("2000-01-31 00:00:00", dt.date(2000, 1, 31)),
        ("2000-01-31T00:00", dt.date(2000, 1, 31)),
        (dt.datetime(2000, 1, 31, 8, 0), dt.date(2000, 1, 31)),
    ],
)
def test_date_formats(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", ["2000-02-30", "2000-13-01", "20001301", "31/01/2000", "", None, "2000-01"])
def test_unreadable_dates(value):
    assert parse_date(value) is None


def test_month_arithmetic():
    assert add_months(dt.date(2024, 11, 1), 3) == dt.date(2025, 2, 1)
    assert add_months(dt.date(2024, 1, 1), -1) == dt.date(2023, 12, 1)
    assert add_months(dt.date(1965, 1, 1), 60 * 12 + 1) == dt.date(2025, 2, 1)
    assert months_between(dt.date(2024, 11, 1), dt.date(2025, 2, 1)) == 3
    assert month_range(dt.date(2024, 11, 1), dt.date(2025, 2, 1)) == [
        dt.date(2024, 11, 1),
        dt.date(2024, 12, 1),
        dt.date(2025, 1, 1),
    ]
    assert month_range(dt.date(2025, 2, 1), dt.date(2025, 2, 1)) == []
    assert format_month(dt.date(2025, 3, 1)) == "2025-03"
    assert format_month(None) == ""


@pytest.mark.parametrize(
    "value,expected",
    [
        ("6500", Decimal("6500")),
        ("6500.5", Decimal("6500.5")),
        ("12,345.60", Decimal("12345.60")),
        ("1,234,567.89", Decimal("1234567.89")),
        ("１２３４５", Decimal("12345")),
        ("１２，３４５．６０", Decimal("12345.60")),
        ("¥6,500", Decimal("6500")),
        ("￥6500.00", Decimal("6500.00")),
        ("6500元", Decimal("6500")),
        (" 6500 ", Decimal("6500")),
        (12345.6, Decimal("12345.6")),
        (4498.1, Decimal("4498.1")),
        (6500, Decimal("6500")),
        (Decimal("7000.25"), Decimal("7000.25")),
    ],
)
def test_money_formats(value, expected):
    amount = parse_money(value)
    assert isinstance(amount, Decimal)
    assert amount == expected


def test_spreadsheet_float_keeps_its_shortest_decimal_form():
    # 0.1 + 0.2 style binary noise never leaks in: the float's repr is what the user typed.
    assert str(parse_money(4498.1)) == "4498.1"
    assert str(parse_money(6500.35)) == "6500.35"


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "abc",
        "6,5x0",
        "1e5",
        "NaN",
        "Infinity",
        float("nan"),
        float("inf"),
        True,
        "6500.00.1",
        "--6500",
        "六千五百",
    ],
)
def test_not_money(value):
    assert parse_money(value) is None


def test_fen_rounds_half_up():
    assert fen(Decimal("0.005")) == Decimal("0.01")
    assert fen(Decimal("2.675")) == Decimal("2.68")
    assert fen(Decimal("-0.005")) == Decimal("-0.01")
    assert fen(Decimal("6500")) == Decimal("6500.00")


# --- the same parsing through a field spec, as forms and imports use it -------------------

SPECS = [
    FieldSpec("start_month", "参保起始年月", "month", True),
    FieldSpec("first_work_date", "参加工作日期", "date", True),
    FieldSpec("wage", "申报月工资", "money", True),
]


def _row(**raw):
    base = {"start_month": "2025-03", "first_work_date": "2012-07-01", "wage": "6500"}
    base.update(raw)
    return normalise_row(SPECS, base)


@pytest.mark.parametrize(
    "wage,stored",
    [
        ("6500", "6500.00"),
        ("6,500.5", "6500.50"),
        (6500.5, "6500.50"),
        ("６５００", "6500.00"),
        ("6500.000", "6500.00"),
        (4498, "4498.00"),
    ],
)
def test_wage_is_stored_as_fen_string(wage, stored):
    result = _row(wage=wage)
    assert result.issues == []
    assert result.data["wage"] == stored


@pytest.mark.parametrize(
    "wage,code",
    [
        ("abc", "MONEY_FORMAT"),
        ("6500.005", "MONEY_FORMAT"),
        (6500.123, "MONEY_FORMAT"),
        ("0", "MONEY_POSITIVE"),
        ("-100", "MONEY_POSITIVE"),
        ("", "REQUIRED"),
    ],
)
def test_wage_errors(wage, code):
    result = _row(wage=wage)
    assert [(i.code, i.field) for i in result.issues] == [(code, "wage")]


def test_month_and_date_fields_are_normalised():
    result = _row(start_month="２０２５年３月", first_work_date="2012/7/1")
    assert result.issues == []
    assert result.data["start_month"] == "2025-03"
    assert result.data["first_work_date"] == "2012-07-01"


def test_month_and_date_field_errors_keep_the_input():
    result = _row(start_month="2025-13", first_work_date="2012-02-30")
    assert [(i.code, i.field) for i in result.issues] == [
        ("MONTH_FORMAT", "start_month"),
        ("DATE_FORMAT", "first_work_date"),
    ]
    assert result.data["start_month"] == "2025-13"
    assert result.data["first_work_date"] == "2012-02-30"
