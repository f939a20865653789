"""Identity numbers and names: GB 11643 citizen ID, GB 32100 credit code, person names.

Pure functions. Each validator returns the normalised value and a rule code, or None
when the value is valid. The codes are those of the rule catalogue (workflow.rules).
"""

from __future__ import annotations

import datetime as dt
import operator
import re
import unicodedata
from dataclasses import dataclass

from shebao.core import clock
from shebao.core.months import FULLWIDTH

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
# GB/T 2260 province-level codes. County codes are not checked: a valid number is never
# refused because its county was created after the birth date or abolished since.
PROVINCES = frozenset(
    [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46]
    + [50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83]
)

ID_TYPE_RESIDENT = "01"
ID_TYPE_HMT = "02"
ID_TYPE_FOREIGN = "03"


@dataclass(frozen=True)
class IdCheck:
    normalized: str
    error: str | None = None
    sex: str | None = None  # "1" male, "2" female
    birth_date: dt.date | None = None


_SPACES = re.compile(r"\s+")
_SPREADSHEET_NUMBER = re.compile(r"\d(\.\d+)?[eE]\+?1[5-9]")
_ID15 = re.compile(r"\d{15}")
_ID18 = re.compile(r"\d{17}[\dX]")


def clean_text(value: object) -> str:
    """Full-width to half-width, spaces removed, upper-case."""
    if value is None:
        return ""
    text = str(value).translate(FULLWIDTH)
    text = _SPACES.sub("", text)
    return text.upper()


def id_check_char(first17: str) -> str:
    if len(first17) != len(ID_WEIGHTS):
        raise ValueError(f"17 characters expected, got {len(first17)}")
    total = sum(map(operator.mul, map(int, first17), ID_WEIGHTS))
    return ID_CHECK[total % 11]


def looks_like_spreadsheet_number(value: object) -> bool:
    """An 18-digit ID typed as a number reaches us as a float that lost its last digits."""
    if isinstance(value, float):
        return value >= 1e15
    if isinstance(value, int) and not isinstance(value, bool):
        return value >= 10**15 and len(str(value)) != 15
    text = str(value).strip()
    return bool(_SPREADSHEET_NUMBER.fullmatch(text))


def id_text(id_type: str, value: object) -> str:
    """The number as check_id normalises it, without checking it: cheap enough to group the
    rows of a whole file by person before any row is checked."""
    if id_type != ID_TYPE_RESIDENT:
        return clean_text(value)
    if isinstance(value, float) and value.is_integer():
        value = str(int(value))
    text = clean_text(value)
    if _ID15.fullmatch(text):
        # Legacy 15-digit number: century 19, then a computed check character.
        text = text[:6] + "19" + text[6:]
        text += id_check_char(text)
    return text


def check_resident_id(value: object) -> IdCheck:
    if looks_like_spreadsheet_number(value):
        return IdCheck(str(value), "ID_NUMERIC_CELL")
    text = id_text(ID_TYPE_RESIDENT, value)
    if not text:
        return IdCheck("", "REQUIRED")
    if not _ID18.fullmatch(text):
        return IdCheck(text, "ID_FORMAT")
    if int(text[:2]) not in PROVINCES:
        return IdCheck(text, "ID_REGION")
    try:
        birth = dt.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return IdCheck(text, "ID_BIRTH_DATE")
    if birth.year < 1900 or birth > clock.today():
        return IdCheck(text, "ID_BIRTH_DATE")
    if id_check_char(text[:17]) != text[17]:
        return IdCheck(text, "ID_CHECKSUM")
    sex = "1" if int(text[16]) % 2 else "2"
    return IdCheck(text, None, sex, birth)


def check_other_id(id_type: str, value: object) -> IdCheck:
    text = id_text(id_type, value)
    if not text:
        return IdCheck("", "REQUIRED")
    if id_type == ID_TYPE_HMT:
        # 港澳台居民居住证: 18 characters, 810000/820000/830000 prefix, GB 11643 check.
        if not re.fullmatch(r"8[123]0000\d{11}[\dX]", text):
            return IdCheck(text, "ID_FORMAT_HMT")
        if id_check_char(text[:17]) != text[17]:
            return IdCheck(text, "ID_CHECKSUM")
        return IdCheck(text)
    if id_type == ID_TYPE_FOREIGN:
        # 2023 format: 18 characters starting with 9 and a GB 11643 check; the older
        # 15-character form is three letters and twelve digits.
        if re.fullmatch(r"9\d{16}[\dX]", text):
            if id_check_char(text[:17]) != text[17]:
                return IdCheck(text, "ID_CHECKSUM")
            return IdCheck(text)
        if re.fullmatch(r"[A-Z]{3}\d{12}", text):
            return IdCheck(text)
        return IdCheck(text, "ID_FORMAT_FOREIGN")
    return IdCheck(text, "ID_TYPE")


def check_id(id_type: str, value: object) -> IdCheck:
    if id_type == ID_TYPE_RESIDENT:
        return check_resident_id(value)
    return check_other_id(id_type, value)


def id_key(id_type: str, normalized: str) -> str:
    """The person lock and register key: type and normalised number."""
    return f"{id_type}:{normalized}"


USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


USCC_AUTHORITIES = "123456789ANY"  # the default of settings.SHEBAO_USCC_AUTHORITIES
_USCC_PARTS = re.compile(f"([{USCC_CHARS}])[{USCC_CHARS}][0-9]{{6}}[{USCC_CHARS}]{{10}}")


def uscc_authorities() -> str:
    from django.conf import settings

    return getattr(settings, "SHEBAO_USCC_AUTHORITIES", USCC_AUTHORITIES)


def check_uscc(value: object, authorities: str | None = None) -> tuple[str, str | None]:
    """GB 32100: position 1 the registration authority (one of `authorities`, by default the
    setting), 2 the organisation type, 3–8 the administrative division (six digits), 9–17 the
    organisation code, 18 the check character; all from the code alphabet (no I, O, Z, S, V)."""
    text = clean_text(value)
    parts = _USCC_PARTS.fullmatch(text)
    if not parts or parts.group(1) not in (authorities or uscc_authorities()):
        return text, "USCC_FORMAT"
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(text[:17], USCC_WEIGHTS, strict=True))
    if USCC_CHARS[(31 - total % 31) % 31] != text[17]:
        return text, "USCC_CHECKSUM"
    return text, None


def uscc_issue_params(authorities: str | None = None) -> dict:
    """The parameters of USCC_FORMAT's message: the accepted authority codes, runs of digits
    written as ranges ("1–9、A、N、Y")."""
    chosen = authorities or uscc_authorities()
    digits = [int(c) for c in "0123456789" if c in chosen]
    parts: list[str] = []
    start = 0
    for end in range(1, len(digits) + 1):
        if end == len(digits) or digits[end] != digits[end - 1] + 1:
            run = digits[start:end]
            parts += [f"{run[0]}–{run[-1]}"] if len(run) > 2 else [str(d) for d in run]
            start = end
    parts += [c for c in USCC_CHARS if c.isalpha() and c in chosen]
    # {"l": [...]}: a list the message shows joined with the reader's list separator.
    return {"authorities": {"l": parts}}


# Separators people type for the 间隔号 in minority and foreign names. Applied before the
# full-width mapping, which would otherwise turn "．" (U+FF0E) into a plain ".".
_NAME_DOTS = str.maketrans({"•": "·", "・": "·", "．": "·", "‧": "·", "･": "·", "∙": "·", "⋅": "·"})


def _is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return (
        0x3400 <= cp <= 0x4DBF
        or 0x4E00 <= cp <= 0x9FFF
        or 0xF900 <= cp <= 0xFAFF
        or 0x20000 <= cp <= 0x323AF
        or cp == 0x3007
    )


def check_name(value: object) -> tuple[str, str | None]:
    """1–50 characters: CJK of every plane, Latin letters, spaces between Latin words, '·'."""
    text = unicodedata.normalize("NFC", str(value or "")).translate(_NAME_DOTS).translate(FULLWIDTH).strip()
    text = re.sub(r"\s+", " ", text)
    if not text:
        return "", "REQUIRED"
    if len(text) > 50:
        return text, "NAME_LENGTH"
    for index, ch in enumerate(text):
        if _is_cjk(ch) or ch == "·" or ("A" <= ch.upper() <= "Z"):
            continue
        if ch == " " and 0 < index < len(text) - 1:
            before, after = text[index - 1], text[index + 1]
            if before.isascii() and before.isalpha() and after.isascii() and after.isalpha():
                continue
        return text, "NAME_CHARS"
    if text.startswith("·") or text.endswith("·") or "··" in text:
        return text, "NAME_CHARS"
    return text, None
