"""Money is Decimal, rounded to fen half-up; never float."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from shebao.core.months import FULLWIDTH

FEN = Decimal("0.01")


def fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def parse_money(value: object) -> Decimal | None:
    """Read '12,345.60', '１２３４５', 12345.6 (a spreadsheet float) as Decimal; None if not money."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    else:
        text = str(value).strip().translate(FULLWIDTH).replace(",", "").replace("，", "")
        text = re.sub(r"^[¥￥]|元$", "", text).strip()
        if not re.fullmatch(r"-?\d+(\.\d+)?", text):
            return None
        try:
            amount = Decimal(text)
        except InvalidOperation:
            return None
    if not amount.is_finite():
        return None
    return amount
