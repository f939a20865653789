"""GB 11643 citizen IDs, other ID types, GB 32100 credit codes and person names (DOMAIN §8)."""

from __future__ import annotations

import datetime as dt

import pytest

from shebao.core.identity import check_id, check_name, check_resident_id, check_uscc

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def ref_check(first17: str) -> str:
    """Independent ISO 7064 MOD 11-2 (the table of DOMAIN §8), to build test numbers."""
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def ref_id(first17: str) -> str:
    return first17 + ref_check(first17)


# --- 居民身份证 ---------------------------------------------------------------------------


def test_published_example_is_valid_with_sex_and_birth():
    check = check_resident_id("11010519491231002X")
    assert check.error is None
    assert check.normalized == "11010519491231002X"
    assert check.sex == "2"
    assert check.birth_date == dt.date(1949, 12, 31)


def test_lower_case_x_is_normalised_not_refused():
    check = check_resident_id("11010519491231002x")
    assert check.error is None
    assert check.normalized == "11010519491231002X"


def test_full_width_digits_and_spaces_are_normalised():
    check = check_resident_id("１１０１０５ １９４９１２３１ ００２Ｘ")
    assert check.error is None
    assert check.normalized == "11010519491231002X"
    check = check_resident_id(" 420102 19900101 1236\t")
    assert (check.error, check.normalized) == (None, "420102199001011236")
    # Ideographic space and a lower-case full-width x.
    check = check_resident_id("11010519491231002\u3000ｘ")
    assert (check.error, check.normalized) == (None, "11010519491231002X")


def test_fifteen_digit_legacy_number_is_upgraded():
    check = check_resident_id("130503670401001")
    assert check.error is None
    assert check.normalized == "130503196704010016"
    assert check.birth_date == dt.date(1967, 4, 1)
    assert check.sex == "1"
    check = check_resident_id("420102900101123")
    assert check.normalized == "420102199001011236"


def test_fifteen_digit_number_with_impossible_date_is_refused():
    assert check_resident_id("420102900230123").error == "ID_BIRTH_DATE"


def test_bad_check_character():
    assert check_resident_id("110105194912310021").error == "ID_CHECKSUM"
    good = ref_id("42010219900101123")
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    assert check_resident_id(wrong).error == "ID_CHECKSUM"


@pytest.mark.parametrize("birth", ["19900230", "19901301", "19900001", "19890229", "18991231"])
def test_impossible_birth_date(birth):
    number = ref_id(f"420102{birth}123")
    assert check_resident_id(number).error == "ID_BIRTH_DATE"


def test_birth_date_in_the_future_is_refused():
    future = dt.date.today() + dt.timedelta(days=400)
    number = ref_id(f"420102{future:%Y%m%d}123")
    assert check_resident_id(number).error == "ID_BIRTH_DATE"


def test_leap_day_is_a_valid_birth_date():
    check = check_resident_id(ref_id("42010219920229123"))
    assert check.error is None and check.birth_date == dt.date(1992, 2, 29)


@pytest.mark.parametrize(
    "province", ["00", "10", "16", "20", "24", "30", "38", "40", "47", "55", "60", "66", "72", "80", "84", "99"]
)
def test_bad_province_code(province):
    number = ref_id(f"{province}010219900101123")
    assert check_resident_id(number).error == "ID_REGION"


@pytest.mark.parametrize(
    "province", ["11", "15", "21", "23", "31", "37", "41", "46", "50", "54", "61", "65", "71", "81", "82", "83"]
)
def test_every_province_range_boundary_is_accepted(province):
    assert check_resident_id(ref_id(f"{province}010119900101123")).error is None


@pytest.mark.parametrize(
    "first17",
    [
        "42011719550315123",  # 武汉市新洲区, a district since 1998: born 1955
        "42900419560708456",  # 仙桃市, a city since 1986: born 1956
        "42011319510101001",  # 汉南区 (created 1984, merged 2019): born 1951
        "46900119580101002",  # 五指山市 (Hainan province created 1988): born 1958
        "50010119530101003",  # 重庆 municipality created 1997: born 1953
    ],
)
def test_county_newer_than_birth_or_abolished_is_valid(first17):
    number = ref_id(first17)
    check = check_resident_id(number)
    assert check.error is None, check
    assert check.normalized == number


def test_exact_results_for_newer_counties():
    assert check_resident_id("420117195503151235").error is None
    assert check_resident_id("429004195607084568").error is None


@pytest.mark.parametrize(
    "cell", [1.101051966011026e17, "1.101051966011026e+17", "1.10105E+17", "4.20102E+17", 420102199001011200.0]
)
def test_spreadsheet_number_is_refused_as_numeric_cell(cell):
    assert check_resident_id(cell).error == "ID_NUMERIC_CELL"


def test_spreadsheet_cell_with_a_15_digit_number_is_read():
    # 15 digits survive a numeric cell exactly; the legacy number is upgraded.
    assert check_resident_id(130503670401001.0).normalized == "130503196704010016"


@pytest.mark.parametrize(
    "value,code",
    [
        ("", "REQUIRED"),
        (None, "REQUIRED"),
        ("4201021990010112", "ID_FORMAT"),
        ("4201021990010112345", "ID_FORMAT"),
        ("42010219900101123A", "ID_FORMAT"),
        ("X20102199001011236", "ID_FORMAT"),
        ("42010219900101123-", "ID_FORMAT"),
    ],
)
def test_malformed_numbers(value, code):
    assert check_resident_id(value).error == code


def test_sex_is_taken_from_the_17th_digit():
    assert check_resident_id(ref_id("42010219900101122")).sex == "2"
    assert check_resident_id(ref_id("42010219900101121")).sex == "1"


# --- other ID types ---------------------------------------------------------------------


def test_hmt_residence_permit():
    for prefix in ("810000", "820000", "830000"):
        number = ref_id(f"{prefix}19900101123")
        check = check_id("02", number.lower())
        assert check.error is None
        assert check.normalized == number
    assert check_id("02", "810000199001011230").error is None
    assert check_id("02", "810000199001011231").error == "ID_CHECKSUM"
    assert check_id("02", ref_id("84000019900101123")).error == "ID_FORMAT_HMT"
    assert check_id("02", "H01234567").error == "ID_FORMAT_HMT"


def test_2023_foreign_permanent_residence_id():
    check = check_id("03", "936156199001011230")
    assert check.error is None and check.normalized == "936156199001011230"
    assert check_id("03", "936156199001011231").error == "ID_CHECKSUM"
    assert check_id("03", ref_id("83615619900101123")).error == "ID_FORMAT_FOREIGN"
    # The older 15-character form: three letters and twelve digits.
    assert check_id("03", "usa123456789012").normalized == "USA123456789012"
    assert check_id("03", "USA123456789012").error is None
    assert check_id("03", "US1234567890123").error == "ID_FORMAT_FOREIGN"


def test_unknown_id_type():
    assert check_id("99", "420102199001011236").error == "ID_TYPE"


# --- 统一社会信用代码 ----------------------------------------------------------------------

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def ref_uscc(body: str) -> str:
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    return body + USCC_CHARS[(31 - total % 31) % 31]


def test_uscc_valid():
    assert check_uscc("91420100MA4K0Y1Q26") == ("91420100MA4K0Y1Q26", None)
    code = ref_uscc("91350100M000100Y4")
    assert check_uscc(code) == (code, None)
    assert check_uscc(" " + code.lower() + " ") == (code, None)
    assert check_uscc("９１４２０１００ＭＡ４Ｋ０Ｙ１Ｑ２６") == ("91420100MA4K0Y1Q26", None)


def test_uscc_bad_check_character():
    assert check_uscc("91420100MA4K0Y1Q27")[1] == "USCC_CHECKSUM"
    assert check_uscc("91420100MA4K0Y1Q2A")[1] == "USCC_CHECKSUM"


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_uscc_letters_i_o_z_s_v_are_refused(letter):
    assert check_uscc(f"91420100MA4K0Y1{letter}26")[1] == "USCC_FORMAT"
    assert check_uscc(f"91420100MA4K0Y1Q2{letter}")[1] == "USCC_FORMAT"


@pytest.mark.parametrize("value", ["", "91420100MA4K0Y1Q2", "91420100MA4K0Y1Q266", "91420100-A4K0Y1Q26"])
def test_uscc_wrong_length_or_characters(value):
    assert check_uscc(value)[1] == "USCC_FORMAT"


@pytest.mark.parametrize("division", ["MA4K0Y", "42Q100", "4201A0", "HHHHHH", "42010Y"])
def test_uscc_division_code_must_be_six_digits_even_with_a_fitting_check_character(division):
    """The outside audit: letters in positions 3–8 passed when the check character fitted."""
    code = ref_uscc(f"91{division}MA4K0Y1Q2")
    assert check_uscc(code) == (code, "USCC_FORMAT")


@pytest.mark.parametrize("authority", list("123456789ANY"))
def test_uscc_every_default_registration_authority_is_accepted(authority):
    code = ref_uscc(f"{authority}1420100MA4K0Y1Q2")
    assert check_uscc(code) == (code, None)


@pytest.mark.parametrize("authority", list("0BCDEFGHJKLMPQRTUWX"))
def test_uscc_other_registration_authorities_are_refused(authority):
    code = ref_uscc(f"{authority}1420100MA4K0Y1Q2")
    assert check_uscc(code) == (code, "USCC_FORMAT")


@pytest.mark.parametrize("kind", list(USCC_CHARS))
def test_uscc_organisation_type_may_be_any_code_character(kind):
    code = ref_uscc(f"9{kind}420100MA4K0Y1Q2")
    assert check_uscc(code)[1] is None


def test_uscc_authorities_come_from_the_setting(settings):
    code = ref_uscc("A1420100MA4K0Y1Q2")
    settings.SHEBAO_USCC_AUTHORITIES = "9"
    assert check_uscc(code)[1] == "USCC_FORMAT"
    assert check_uscc(ref_uscc("91420100MA4K0Y1Q2"))[1] is None
    settings.SHEBAO_USCC_AUTHORITIES = "9A"
    assert check_uscc(code)[1] is None


def test_uscc_format_message_says_what_each_part_must_be(settings):
    from shebao.core.identity import uscc_issue_params
    from shebao.workflow.rules import render

    zh = render("USCC_FORMAT", params=uscc_issue_params(), language="zh-hans")
    assert "第 1 位为登记管理部门代码（1–9、A、N、Y）" in zh
    assert "第 2 位为机构类别代码" in zh and "第 3–8 位为登记管理机关行政区划码（6 位数字）" in zh
    assert "第 9–17 位为主体标识码（组织机构代码）" in zh and "第 18 位为校验码" in zh
    en = render("USCC_FORMAT", params=uscc_issue_params(), language="en")
    assert "position 1 the registration authority (1–9, A, N, Y)" in en and "3–8 the administrative division" in en
    settings.SHEBAO_USCC_AUTHORITIES = "159N"
    assert "登记管理部门代码（1、5、9、N）" in render("USCC_FORMAT", params=uscc_issue_params(), language="zh-hans")


def test_test_and_demo_credit_codes_are_valid():
    from shebao.demo.data import credit_code
    from tests.factories import make_credit_code

    for n in (1, 7, 99, 12345, 99999):
        for code in (
            make_credit_code(n),
            make_credit_code(n, "420106"),
            make_credit_code(),
            credit_code("420102", n),
            credit_code("420106", n),
        ):
            assert check_uscc(code) == (code, None), code


# --- names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,expected",
    [
        ("张三", "张三"),
        ("𠀾", "𠀾"),  # CJK extension B (plane 2)
        ("王𠀾𪚥", "王𠀾𪚥"),  # extension B and C
        ("李〇", "李〇"),
        ("John Smith", "John Smith"),
        ("  Mary   Ann  Lee ", "Mary Ann Lee"),
        ("阿卜杜·热合曼", "阿卜杜·热合曼"),
        ("阿卜杜•热合曼", "阿卜杜·热合曼"),
        ("阿卜杜・热合曼", "阿卜杜·热合曼"),
        ("阿卜杜．热合曼", "阿卜杜·热合曼"),
        ("Ｊｏｈｎ", "John"),
        ("a" * 50, "a" * 50),
    ],
)
def test_names_accepted_and_normalised(value, expected):
    assert check_name(value) == (expected, None)


@pytest.mark.parametrize(
    "value,code",
    [
        ("", "REQUIRED"),
        ("   ", "REQUIRED"),
        ("张三1", "NAME_CHARS"),
        ("张三３", "NAME_CHARS"),
        ("<script>alert(1)</script>", "NAME_CHARS"),
        ("<b>张三</b>", "NAME_CHARS"),
        ("张&amp;三", "NAME_CHARS"),
        ("张\x00三", "NAME_CHARS"),
        ("张\x1b三", "NAME_CHARS"),
        ("张\u200b三", "NAME_CHARS"),
        ("张\u202e三", "NAME_CHARS"),
        ("张 三", "NAME_CHARS"),
        ("·张三", "NAME_CHARS"),
        ("张三·", "NAME_CHARS"),
        ("张··三", "NAME_CHARS"),
        ("John_Smith", "NAME_CHARS"),
        ("O'Brien", "NAME_CHARS"),
        ("a" * 51, "NAME_LENGTH"),
    ],
)
def test_names_refused(value, code):
    assert check_name(value)[1] == code
