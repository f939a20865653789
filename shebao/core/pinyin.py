"""The sort key of a name in pinyin order (张三 before 赵四), computed with pypinyin.

The key holds only lower-case ASCII letters and digits, each syllable the same width: the
syllable padded with "0" to six letters, then its tone (1-4, 5 for the neutral tone). Byte
order and the collation of any database agree on such strings, so ORDER BY on the indexed
column sorts the same on SQLite and PostgreSQL: 李 (li0000 3) before 连 (lian00 2) before
刘 (liu000 2). A word that is not Chinese (a foreigner's Latin name) keeps its letters,
lower-cased, with tone 0, so it sorts among the syllables by its letters.
"""

from __future__ import annotations

import re

from pypinyin import Style, lazy_pinyin

SYLLABLE_WIDTH = 6
MAX_LENGTH = 400
_WORD = re.compile(r"[a-z0-9]+")
# Characters whose reading as a surname differs from their common reading (曾 zeng, not ceng).
_SURNAMES = {
    "曾": "zeng1",
    "单": "shan4",
    "解": "xie4",
    "仇": "qiu2",
    "区": "ou1",
    "朴": "piao2",
    "查": "zha1",
    "盖": "ge3",
    "乐": "yue4",
    "覃": "qin2",
    "召": "shao4",
    "缪": "miao4",
    "翟": "zhai2",
    "折": "she2",
    "尉": "yu4",
    "长": "chang2",
    "重": "chong2",
    "种": "chong2",
}


def _syllable(reading: str) -> str:
    if reading[-1:].isdigit():
        letters, tone = reading[:-1], reading[-1]
    else:
        letters, tone = reading, "0"
    return letters.ljust(SYLLABLE_WIDTH, "0") + tone


def name_sort_key(name: str) -> str:
    """The key that sorts `name` in pinyin order (see the module's doc)."""
    name = (name or "").strip()
    readings = lazy_pinyin(name, style=Style.TONE3, neutral_tone_with_five=True, errors=lambda chars: chars)
    if readings and name[:1] in _SURNAMES:
        readings[0] = _SURNAMES[name[0]]
    parts: list[str] = []
    for reading in readings:
        reading = reading.lower()
        if re.fullmatch(r"[a-z]+[1-5]", reading):
            parts.append(_syllable(reading))
        else:
            parts += [_syllable(word) for word in _WORD.findall(reading)]
    return "".join(parts)[:MAX_LENGTH]
