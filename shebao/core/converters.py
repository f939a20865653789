"""The path converter of every database id in the product's URLs: ``<id:pk>``.

Django's ``<int:…>`` matches any number of digits, and a 30-digit id reached the database:
SQLite refuses an integer beyond 64 bits with OverflowError (a 500) where an id that does
not exist should simply not be found. ``<id:…>`` matches at most 18 digits, which always
fit the 64-bit id columns of both databases; anything longer is not a URL of the product
(404).
"""

from __future__ import annotations

from django.urls import register_converter

# 18 digits: the largest number of digits every value of which fits a signed 64-bit integer.
MAX_ID_DIGITS = 18
MAX_ID = 10**MAX_ID_DIGITS - 1


class IdConverter:
    regex = f"[0-9]{{1,{MAX_ID_DIGITS}}}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int | str) -> str:
        return str(value)


register_converter(IdConverter, "id")
