"""The administration answers hostile list parameters and ticked ids as it answers any bad
filter, never with a 500: for every registered model, Django's and django-q's included.

- Django's change list reads `?<field>__year=` (with `__month`, `__day`) into a datetime and
  refuses only what datetime() calls a ValueError: a 30-digit year overflows, the day after
  9999-12-31 does not exist, and midnight of 0001-01-01 in Asia/Shanghai is before the first
  UTC datetime. Such a year, month or day is now an invalid filter (the list's `?e=1`).
- An action's ticked ids (`_selected_action`) reach `pk__in` unchecked: "abc" for an integer
  key raised ValueError. Values that cannot be a key of the model are left out, as if not
  ticked (numbers too big for the column are left out by shebao.core.lookups).
- An empty `?_to_field=` passes Django's check of the field (it tests only a non-empty one)
  and then names no field (FieldDoesNotExist): empty means the primary key.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import TYPE_CHECKING, Any

from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import ValidationError

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin
    from django.contrib.admin.views.main import ChangeList

    # The mixins below are only ever combined with these classes (see _bounded, harden).
    _ChangeListBase = ChangeList
    _ModelAdminBase = ModelAdmin[Any]
else:
    _ChangeListBase = object
    _ModelAdminBase = object

# year in 2…9998 (a year's first and last moments stay datetimes in every time zone), month
# and day of at most two digits (datetime() itself refuses 13 or 32).
DATE_PARTS = (("year", 4, dt.MINYEAR + 1, dt.MAXYEAR - 1), ("month", 2, 1, 12), ("day", 2, 1, 31))


class BoundedDateHierarchy(_ChangeListBase):
    """Mixed into a ChangeList: refuses a year, month or day no datetime can hold, of the date
    hierarchy or of any date typed into the query string (``?effective_from__year=``)."""

    def get_filters(self, request):
        bounds = {part: (digits, low, high) for part, digits, low, high in DATE_PARTS}
        for key, values in self.filter_params.items():
            part = key.rpartition("__")[2]
            if "__" not in key or part not in bounds:
                continue
            digits, low, high = bounds[part]
            text = values[-1] if values else ""
            if not (text.isascii() and text.isdigit() and len(text) <= digits and low <= int(text) <= high):
                raise IncorrectLookupParameters(key)
        return super().get_filters(request)


@functools.cache
def _bounded(changelist: type) -> type:
    return type(changelist.__name__, (BoundedDateHierarchy, changelist), {})


class RobustModelAdmin(_ModelAdminBase):
    """Mixed into every registered ModelAdmin by harden()."""

    def get_object(self, request, object_id, from_field=None):
        return super().get_object(request, object_id, from_field or None)

    def get_changelist(self, request, **kwargs):
        # A class is hashable; mypy checks the class object against its instances' __hash__.
        return _bounded(super().get_changelist(request, **kwargs))  # type: ignore[arg-type]

    def response_action(self, request, queryset, *args, **kwargs):
        key = self.model._meta.pk
        ticked = []
        for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
            try:
                key.get_prep_value(key.to_python(value))
            except (ValidationError, ValueError, TypeError):
                continue
            ticked.append(value)
        post = request.POST.copy()
        post.setlist(helpers.ACTION_CHECKBOX_NAME, ticked)
        request.POST = post
        return super().response_action(request, queryset, *args, **kwargs)


def harden(site) -> None:
    """Give every ModelAdmin registered on the site the refusals above (call once, before
    the site's URLs are built)."""
    for model, model_admin in list(site._registry.items()):
        cls = type(model_admin)
        if issubclass(cls, RobustModelAdmin):
            continue
        site.unregister(model)
        site.register(model, type(cls.__name__, (RobustModelAdmin, cls), {"__module__": cls.__module__}))
