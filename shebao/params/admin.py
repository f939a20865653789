"""Parameter tables: rows effective from the 1st of a month (model clean() enforces it)."""

from __future__ import annotations

from collections import defaultdict
from typing import ClassVar

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from shebao.core import clock
from shebao.core.adminmonths import MonthField, month_column, month_filter
from shebao.core.choices import InsuranceType
from shebao.core.months import format_month
from shebao.core.text import list_separator
from shebao.params.models import (
    AccountInterest,
    BaseLimit,
    DeclarationWindow,
    InjuryRate,
    MinimumContribution,
    MinimumWage,
    PayoutMonths,
    PensionBase,
    Rate,
    ReaderSettings,
    RetirementCategory,
    RetirementRule,
    Setting,
    SettingKey,
)
from shebao.params.reader import validate_row
from shebao.params.services import ParamSnapshot, in_effect, parameter_gaps


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


effective_month = month_column("effective_from", _("生效年月"))


class EffectiveRowAdmin(admin.ModelAdmin):
    ordering: ClassVar[tuple[str, ...]] = ("-effective_from",)
    save_as = True  # a new row for a new month starts as a copy of the current one
    # Date columns that hold a month (the first day): typed and shown as 2026-07.
    month_fields: ClassVar[tuple[str, ...]] = ("effective_from",)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in self.month_fields and isinstance(db_field, models.DateField):
            return MonthField(
                label=db_field.verbose_name,
                required=not db_field.blank,
                help_text=_("年月，如 2026-07（自该月1日起生效）")
                if db_field.name == "effective_from"
                else _("年月，如 2026-07"),
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

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
    list_display = ("year", "insurance_type", "average_wage", "floor", "ceiling", effective_month, "note")
    list_filter = ("year", "insurance_type", month_filter("effective_from", _("生效年月")))
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
    list_display = ("insurance_type", "employer_rate", "personal_rate", effective_month, "illustrative", "note")
    list_filter = ("insurance_type", "illustrative", month_filter("effective_from", _("生效年月")))
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
    list_display = ("risk_class", "rate", effective_month, "note")
    list_filter = ("risk_class", month_filter("effective_from", _("生效年月")))
    ordering = ("-effective_from", "risk_class")


@admin.register(RetirementRule)
class RetirementRuleAdmin(EffectiveRowAdmin):
    list_display = (
        "category",
        "original_age_years",
        month_column("reform_start", _("延迟退休起始月")),
        "step_months",
        "cap_months",
        effective_month,
        "note",
    )
    list_filter = ("category", month_filter("effective_from", _("生效年月")))
    month_fields = ("effective_from", "reform_start")
    ordering = ("-effective_from", "category")


@admin.register(Setting)
class SettingAdmin(EffectiveRowAdmin):
    list_display = ("key", "shown_value", effective_month, "note")
    list_filter = ("key", month_filter("effective_from", _("生效年月")))
    ordering = ("-effective_from", "key")

    @admin.display(description=_("取值"), ordering="value")
    def shown_value(self, obj):
        return plain_number(obj.value)


class MinimumWageForm(forms.ModelForm):
    class Meta:
        model = MinimumWage
        fields = ("tier", "monthly", "effective_from", "note")

    def clean(self):
        super().clean()
        value = self.cleaned_data.get("monthly")
        if value is not None and value <= 0:
            self.add_error("monthly", _("金额须大于 0。"))
        return self.cleaned_data


@admin.register(MinimumWage)
class MinimumWageAdmin(EffectiveRowAdmin):
    form = MinimumWageForm
    list_display = ("tier", "monthly", effective_month, "note")
    list_filter = ("tier", month_filter("effective_from", _("生效年月")))
    ordering = ("-effective_from", "tier")


@admin.register(DeclarationWindow)
class DeclarationWindowAdmin(admin.ModelAdmin):
    list_display = ("year", "opens", "closes", "note")
    ordering = ("-year",)


@admin.register(MinimumContribution)
class MinimumContributionAdmin(admin.ModelAdmin):
    list_display = ("year", "months", "note")
    ordering = ("-year",)


class PensionBaseForm(forms.ModelForm):
    class Meta:
        model = PensionBase
        fields = ("year", "amount", "illustrative", "note")

    def clean(self):
        super().clean()
        value = self.cleaned_data.get("amount")
        if value is not None and value <= 0:
            self.add_error("amount", _("金额须大于 0。"))
        return self.cleaned_data


@admin.register(PensionBase)
class PensionBaseAdmin(admin.ModelAdmin):
    form = PensionBaseForm
    list_display = ("year", "amount", "illustrative", "note")
    ordering = ("-year",)


@admin.register(PayoutMonths)
class PayoutMonthsAdmin(admin.ModelAdmin):
    list_display = ("age", "months", "note")
    ordering = ("age",)


class AccountInterestForm(forms.ModelForm):
    class Meta:
        model = AccountInterest
        fields = ("year", "rate", "note")

    def clean(self):
        super().clean()
        value = self.cleaned_data.get("rate")
        if value is not None and not (0 <= value < 1):
            self.add_error("rate", _("记账利率须在 0 到 1 之间，如 0.0262 表示 2.62%。"))
        return self.cleaned_data


@admin.register(AccountInterest)
class AccountInterestAdmin(admin.ModelAdmin):
    form = AccountInterestForm
    list_display = ("year", "shown_rate", "note")
    ordering = ("-year",)

    @admin.display(description=_("记账利率"), ordering="rate")
    def shown_rate(self, obj):
        return percent(obj.rate)


def plain_number(value) -> str:
    """1.00000 as 1, 0.00050 as 0.0005."""
    if value is None:
        return ""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def percent(value) -> str:
    """0.16000 as 16%, 0.00700 as 0.7%."""
    return "" if value is None else f"{plain_number(value * 100)}%"


# --- 现行参数: the values in effect in a month -------------------------------------------------


class InEffectForm(forms.Form):
    month = MonthField(label=_("查询月份"), required=True)


def _change_url(row) -> str:
    return reverse(f"admin:params_{row._meta.model_name}_change", args=[row.pk]) if row is not None else ""


def _source(row) -> dict:
    """The parameter row a value comes from: its month, its note (the notice) and its page."""
    if row is None:
        return {"row": None}
    return {"row": row, "month": format_month(row.effective_from), "note": row.note, "url": _change_url(row)}


def in_effect_view(request):
    """现行参数: every parameter in force in the chosen month (this month unless one is asked),
    with the row, and so the notice, each value comes from."""
    data = request.GET if "month" in request.GET else {"month": format_month(clock.current_month())}
    form = InEffectForm(data)
    context = {
        **admin.site.each_context(request),
        "title": gettext("现行参数"),
        "subtitle": None,
        "form": form,
        "app_label": "params",
    }
    if form.is_valid():
        month = form.cleaned_data["month"]
        values = in_effect(ParamSnapshot.load(), month)
        context["month"] = format_month(month)
        context["limits"] = [
            {
                "type": InsuranceType(itype).label,
                "limits": limits,
                "provisional": limits is not None and limits.provisional,
                **_source(row),
            }
            for itype, limits, row in values.limits
        ]
        context["rates"] = [
            {
                "type": InsuranceType(itype).label,
                "employer": percent(row.employer_rate) if row else "",
                "personal": percent(row.personal_rate) if row else "",
                "illustrative": bool(row and row.illustrative and gettext("示例数据") not in row.note),
                **_source(row),
            }
            for itype, row in values.rates
        ]
        context["injury"] = [
            {"risk_class": risk, "rate": percent(row.rate) if row else "", **_source(row)}
            for risk, row in values.injury
        ]
        context["retirement"] = [
            {
                "category": RetirementCategory(category).label,
                "rule": rule,
                "reform_start": format_month(rule.reform_start) if rule else "",
                "retires": format_month(retires),
                **_source(rule),
            }
            for category, rule, retires in values.retirement
        ]
        context["settings"] = [
            {"label": SettingKey(key).label, "value": plain_number(value), **_source(row)}
            for key, value, row in values.settings
        ]
    return TemplateResponse(request, "admin/params/in_effect.html", context)


def link_in_effect(site: admin.AdminSite) -> None:
    """现行参数 heads the 参数管理 section of the index and of the side bar."""
    build = site.get_app_list

    def get_app_list(request, app_label=None):
        app_list = build(request, app_label)
        for app in app_list:
            if app["app_label"] == "params" and request.user.has_module_perms("params"):
                app["models"].insert(
                    0,
                    {
                        "name": _("现行参数（按月查看）"),
                        "object_name": "InEffect",
                        "admin_url": reverse("params_in_effect"),
                        "add_url": None,
                        "view_only": True,
                        "perms": {"view": True},
                    },
                )
        return app_list

    site.get_app_list = get_app_list  # type: ignore[method-assign]


class ReaderSettingsForm(forms.ModelForm):
    class Meta:
        model = ReaderSettings
        fields = ("origin", "open_path", "read_path", "close_path", "field_names")

    def clean(self) -> dict:
        data = super().clean() or {}
        probe = ReaderSettings(**{name: data.get(name) or "" for name in self.Meta.fields if name != "field_names"})
        probe.field_names = data.get("field_names")
        validate_row(probe)  # a message per field
        data.update(origin=probe.origin, field_names=probe.field_names)
        return data


@admin.register(ReaderSettings)
class ReaderSettingsAdmin(admin.ModelAdmin):
    """读卡器设置: one row (docs/reader.md); blank fields use the SHEBAO_READER_* defaults."""

    list_display = ("__str__", "origin", "read_path", "updated_at")
    form = ReaderSettingsForm

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and not ReaderSettings.objects.exists()
