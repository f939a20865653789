"""Forms of the clerk's pages. Every action form carries the version the clerk was shown."""

from __future__ import annotations

from typing import TypedDict

from django import forms
from django.utils.translation import gettext_lazy as _


class QueueFilters(TypedDict):
    """The queue's filters, as QueueFilterForm.cleaned() gives them."""

    tab: str
    serial: str
    employer: str
    days: int | None


class QueueFilterForm(forms.Form):
    TAB_REVIEW = "review"
    TAB_STALE = "stale"

    tab = forms.ChoiceField(choices=[(TAB_REVIEW, _("待审核")), (TAB_STALE, _("超期草稿"))], required=False)
    serial = forms.CharField(
        label=_("流水号"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off", "placeholder": _("输入或扫描流水号")}),
    )
    employer = forms.CharField(label=_("单位编号"), max_length=40, required=False)
    days = forms.IntegerField(label=_("未修改天数超过"), min_value=0, max_value=3650, required=False)

    def cleaned(self) -> QueueFilters:
        """Filters that are valid; invalid input is ignored rather than refused."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "tab": data.get("tab") or self.TAB_REVIEW,
            "serial": (data.get("serial") or "").strip().replace(" ", ""),
            "employer": (data.get("employer") or "").strip(),
            "days": data.get("days"),
        }


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=2**31 - 1)


class ApproveForm(VersionForm):
    pass


class ReturnForm(VersionForm):
    reason = forms.CharField(
        label=_("回退原因"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请填写回退原因。")},
    )


class CancelForm(VersionForm):
    reason = forms.CharField(
        label=_("退单原因"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请填写退单原因。")},
    )


class MarkFailedForm(forms.Form):
    item = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**62)
    reason = forms.CharField(
        label=_("失败原因"), max_length=500, error_messages={"required": _("请填写标记失败的原因。")}
    )


class RowFilterForm(forms.Form):
    ALL, PASSED, FAILED = "all", "passed", "failed"
    result = forms.ChoiceField(
        label=_("审核结果"),
        required=False,
        choices=[(ALL, _("全部")), (PASSED, _("通过")), (FAILED, _("失败"))],
    )
