"""Money is Decimal, rounded to fen half-up; never float."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from shebao.core.months import FULLWIDTH

FEN = Decimal("0.01")
# The largest amount the register stores (its money columns have 12 digits, 2 of them after the
# point). A larger value is not an amount the product can keep or compute with: 10**26 or
# 1e300 even overflows rounding to fen (decimal.InvalidOperation).
MAX_AMOUNT = Decimal("9999999999.99")


def fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def parse_money(value: object) -> Decimal | None:
    """Read '12,345.60', '１２３４５', 12345.6 (a spreadsheet float) as Decimal; None if not money
    (not a number, not finite, or beyond MAX_AMOUNT either way)."""
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
    if not amount.is_finite() or abs(amount) > MAX_AMOUNT:
        return None
    return amount
