"""Free text typed or uploaded by users: no hidden characters.

Bidirectional controls (the Unicode Bidi_Control characters: U+061C, U+200E, U+200F,
U+202A–U+202E, U+2066–U+2069) make a text read differently from what it holds (a file
named "名单", U+202E, "xslx.exe" shows as "名单exe.xlsx"); C0 and C1 control characters are invisible or break the lines
they are shown in. Neither belongs in an address, a reason or a file name. Tab and line
breaks are allowed only where the text may have several lines (a clerk's reason).
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from shebao.core.errors import ApplicationError

_BIDI = r"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_HIDDEN = re.compile(rf"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_HIDDEN_MULTILINE = re.compile(rf"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]")
_LINE_BREAKS = re.compile(r"[\t\r\n]+")


def hidden_character(text: str, *, multiline: bool = False) -> str | None:
    """The first character that must not be in the text, written as "U+202E", or None."""
    found = (_HIDDEN_MULTILINE if multiline else _HIDDEN).search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def list_separator() -> str:
    """The separator of a list of words in the reader's language ("养老、医疗"; English ", ")."""
    from django.utils.translation import gettext

    # Translators: the separator of a list of words ("养老、医疗"); English ", ".
    return gettext("、")


def one_line(text: str) -> str:
    """Tabs and line breaks (an Excel cell typed with Alt+Enter) read as one space."""
    return _LINE_BREAKS.sub(" ", text)


def without_hidden_characters(text: str) -> str:
    """For a name the user did not type here (an uploaded file's name): the characters are
    dropped, so that what is stored and shown is what the file's name reads as."""
    return _HIDDEN.sub("", text)


def check_reason(reason: str, label: str) -> str:
    """A reason typed by a clerk or an administrator (several lines allowed), or a refusal."""
    char = hidden_character(reason, multiline=True)
    if char:
        raise ApplicationError(
            _("「%(label)s」含有不可见的控制字符 %(char)s（常见于复制粘贴的文字），请删除该字符后重新填写。")
            % {"label": label, "char": char},
            code="TEXT_CONTROL_CHARS",
        )
    return reason
