"""Months in the administration: a month (stored as its first day) reads and is typed as 2026-07.

- ``MonthField``: the form field of a month column (2026-07, 2026/7, 202607, 2026年7月; a bad
  month is refused with a message saying how to write one).
- ``month_column``: a change-list column showing the month, sorted by the column.
- ``month_filter``: a list filter offering the months present, newest first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.utils.translation import gettext_lazy as _

from shebao.core.months import format_month, parse_date, parse_month

MONTH_EXAMPLE = "2026-07"


class MonthField(forms.Field):
    widget = forms.TextInput(attrs={"placeholder": MONTH_EXAMPLE, "size": 8, "inputmode": "numeric"})
    default_error_messages = {"invalid": _("请填写年月，如 2026-07。")}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        month = parse_month(value)
        day = parse_date(value)
        if month is None or (day is not None and day.day != 1):  # 2031-07-15 is not a month
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return month

    def prepare_value(self, value):
        return format_month(value) if isinstance(value, dt.date) else value


def month_column(field: str, label) -> Callable[[Any], str]:
    """A change-list column: the month of ``field`` as 2026-07."""

    @admin.display(description=label, ordering=field)
    def column(obj) -> str:
        return format_month(getattr(obj, field))

    column.__name__ = f"{field}_month"
    return column


def month_filter(field: str, label) -> type[admin.SimpleListFilter]:
    """A list filter by the month of ``field``: the months present, newest first."""

    class MonthFilter(admin.SimpleListFilter):
        title = label
        parameter_name = f"{field}_month"

        def lookups(self, request, model_admin):
            months = model_admin.get_queryset(request).dates(field, "month", order="DESC")
            return [(format_month(m), format_month(m)) for m in months]

        def queryset(self, request, queryset):
            if self.value() is None:
                return queryset
            month = parse_month(self.value())
            if month is None:
                raise IncorrectLookupParameters(self.value())
            return queryset.filter(**{f"{field}__year": month.year, f"{field}__month": month.month})

    MonthFilter.__name__ = f"{field.title().replace('_', '')}MonthFilter"
    return MonthFilter
