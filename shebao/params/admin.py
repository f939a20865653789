"""Parameter tables: rows effective from the 1st of a month (model clean() enforces it)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from shebao.params.models import BaseLimit, InjuryRate, Rate, RetirementRule, Setting


class EffectiveRowAdmin(admin.ModelAdmin):
    ordering = ("-effective_from",)
    date_hierarchy = "effective_from"
    save_as = True  # a new row for a new month starts as a copy of the current one


class BaseLimitForm(forms.ModelForm):
    class Meta:
        model = BaseLimit
        fields = ("year", "insurance_type", "average_wage", "floor", "ceiling", "effective_from", "note")

    def clean(self):
        data = super().clean()
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
        data = super().clean()
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
        data = super().clean()
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
