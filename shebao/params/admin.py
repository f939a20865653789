"""Parameter tables: rows effective from the 1st of a month (model clean() enforces it)."""

from __future__ import annotations

from collections import defaultdict
from typing import ClassVar

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from shebao.core import clock
from shebao.core.choices import InsuranceType
from shebao.core.months import format_month
from shebao.core.text import list_separator
from shebao.params.models import BaseLimit, InjuryRate, Rate, RetirementRule, Setting
from shebao.params.services import ParamSnapshot, parameter_gaps


def _join(items) -> str:
    return list_separator().join(str(i) for i in items)


def gap_messages(snapshot: ParamSnapshot) -> list[tuple[int, str]]:
    """(message level, text) for every rate or limit missing in the current or next month.

    A month without a rate in force refuses that month's enrolments (NO_RATE) and a type
    without any limits refuses all (NO_BASE_LIMITS): errors the administrator must fix. A
    year whose limits are borrowed from an earlier one is a warning (LIMITS_PROVISIONAL).
    """
    this_month = clock.current_month()
    months = [this_month, clock.next_month()]
    # What is missing, per insurance type: the months (rates), or the years and the year used.
    missing: dict[tuple, list] = defaultdict(list)  # (kind, insurance type, detail) -> months/years
    for gap in parameter_gaps(snapshot, months):
        when = gap.month.year if gap.kind in ("limits", "provisional") else gap.month
        entry = missing[(gap.kind, gap.insurance_type, gap.detail)]
        if when not in entry:
            entry.append(when)
    # One message per kind and the same months: "2026-12、2027-01 没有生效的医疗、生育费率".
    by_key: dict[tuple, list[str]] = defaultdict(list)
    for (kind, itype, detail), whens in missing.items():
        by_key[(kind, tuple(whens), detail)].append(itype)
    out = []
    for (kind, whens, detail), types in by_key.items():
        names = _join(InsuranceType(t).label for t in types)
        if kind == "rate":
            out.append(
                (
                    messages.ERROR,
                    gettext(
                        "%(month)s 没有生效的%(types)s费率：该月的增员将被拒绝（NO_RATE）。"
                        "请在「费率」中添加生效年月不晚于 %(first)s 的费率。"
                    )
                    % {"month": _join(map(format_month, whens)), "types": names, "first": format_month(whens[0])},
                )
            )
        elif kind == "injury_rate":
            out.append(
                (
                    messages.ERROR,
                    gettext(
                        "%(month)s 没有生效的工伤保险基准费率（行业风险类别 %(classes)s）：这些单位该月的增员将被拒绝"
                        "（NO_RATE）。请在「工伤保险基准费率」中添加生效年月不晚于 %(first)s 的费率。"
                    )
                    % {
                        "month": _join(map(format_month, whens)),
                        "classes": _join(detail),
                        "first": format_month(whens[0]),
                    },
                )
            )
        elif kind == "limits":
            out.append(
                (
                    messages.ERROR,
                    gettext(
                        "没有任何年度的%(types)s缴费基数上下限：增员将被拒绝（NO_BASE_LIMITS）。"
                        "请在「缴费基数上下限」中录入 %(year)s 年度的标准。"
                    )
                    % {"types": names, "year": whens[0]},
                )
            )
        else:
            for year in whens:
                out.append(
                    (
                        messages.WARNING,
                        gettext(
                            "%(year)s 年度%(types)s缴费基数上下限尚未录入，"
                            "暂按 %(used)s 年度标准执行（LIMITS_PROVISIONAL）。"
                            "省级标准公布后，请录入 %(year)s 年度的标准。"
                        )
                        % {"year": year, "types": names, "used": detail[0]},
                    )
                )
    return out


class EffectiveRowAdmin(admin.ModelAdmin):
    ordering: ClassVar[tuple[str, ...]] = ("-effective_from",)
    date_hierarchy = "effective_from"
    save_as = True  # a new row for a new month starts as a copy of the current one

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET":
            for level, text in gap_messages(ParamSnapshot.load()):
                messages.add_message(request, level, text)
        return super().changelist_view(request, extra_context)


class BaseLimitForm(forms.ModelForm):
    class Meta:
        model = BaseLimit
        fields = ("year", "insurance_type", "average_wage", "floor", "ceiling", "effective_from", "note")

    def clean(self):
        super().clean()
        data = self.cleaned_data
        floor, ceiling = data.get("floor"), data.get("ceiling")
        if floor is not None and ceiling is not None and floor > ceiling:
            self.add_error("ceiling", _("缴费基数上限不能低于下限。"))
        for name in ("floor", "ceiling", "average_wage"):
            if data.get(name) is not None and data[name] <= 0:
                self.add_error(name, _("金额须大于 0。"))
        return data


@admin.register(BaseLimit)
class BaseLimitAdmin(EffectiveRowAdmin):
    form = BaseLimitForm
    list_display = ("year", "insurance_type", "average_wage", "floor", "ceiling", "effective_from", "note")
    list_filter = ("year", "insurance_type")
    ordering = ("-effective_from", "-year", "insurance_type")


class RateForm(forms.ModelForm):
    class Meta:
        model = Rate
        fields = ("insurance_type", "employer_rate", "personal_rate", "illustrative", "effective_from", "note")

    def clean(self):
        super().clean()
        data = self.cleaned_data
        for name in ("employer_rate", "personal_rate"):
            value = data.get(name)
            if value is not None and not (0 <= value < 1):
                self.add_error(name, _("费率应为 0 到 1 之间的小数，如 0.16 表示 16%。"))
        return data


@admin.register(Rate)
class RateAdmin(EffectiveRowAdmin):
    form = RateForm
    list_display = ("insurance_type", "employer_rate", "personal_rate", "effective_from", "illustrative", "note")
    list_filter = ("insurance_type", "illustrative")
    ordering = ("-effective_from", "insurance_type")


class InjuryRateForm(forms.ModelForm):
    class Meta:
        model = InjuryRate
        fields = ("risk_class", "rate", "effective_from", "note")

    def clean(self):
        super().clean()
        data = self.cleaned_data
        value = data.get("rate")
        if value is not None and not (0 <= value < 1):
            self.add_error("rate", _("费率应为 0 到 1 之间的小数，如 0.002 表示 0.2%。"))
        return data


@admin.register(InjuryRate)
class InjuryRateAdmin(EffectiveRowAdmin):
    form = InjuryRateForm
    list_display = ("risk_class", "rate", "effective_from", "note")
    list_filter = ("risk_class",)
    ordering = ("-effective_from", "risk_class")


@admin.register(RetirementRule)
class RetirementRuleAdmin(EffectiveRowAdmin):
    list_display = ("category", "original_age_years", "reform_start", "step_months", "cap_months", "effective_from")
    list_filter = ("category",)
    ordering = ("-effective_from", "category")


@admin.register(Setting)
class SettingAdmin(EffectiveRowAdmin):
    list_display = ("key", "value", "effective_from", "note")
    list_filter = ("key",)
    ordering = ("-effective_from", "key")
