"""Administration of district offices, their materials checklists and employers.

With the administration pages rather than in shebao.employers: a checklist is kept per
business type (the engine's registry) and the forms speak with the rule catalogue's messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from shebao.core.identity import check_uscc, uscc_issue_params
from shebao.core.text import hidden_character
from shebao.employers import models as employers_models
from shebao.employers.models import Employer, MaterialsChecklist, Office
from shebao.workflow import registry
from shebao.workflow.rules import render

# Risk class 1 (the lowest) may only stay at or float above the base rate.
RISK1_FLOATS = (100, 120, 150)

if TYPE_CHECKING:
    _FormBase = forms.BaseForm  # NoHiddenCharacters is only ever mixed into a form
else:
    _FormBase = object


class NoHiddenCharacters(_FormBase):
    """The free-text fields of an administration form refuse bidi and control characters."""

    text_fields: tuple[str, ...] = ()

    def _refuse_hidden_characters(self) -> None:
        for name in self.text_fields:
            value = self.cleaned_data.get(name)
            if isinstance(value, str) and (char := hidden_character(value)):
                self.add_error(
                    name, render("TEXT_CONTROL_CHARS", params={"label": str(self.fields[name].label), "char": char})
                )


class OfficeForm(NoHiddenCharacters, forms.ModelForm):
    text_fields = ("name", "address", "hours", "phone")

    class Meta:
        model = Office
        fields = ("code", "name", "address", "hours", "phone")

    def clean(self):
        super().clean()
        data = self.cleaned_data
        self._refuse_hidden_characters()
        return data


class ChecklistForm(forms.ModelForm):
    business_type = forms.ChoiceField(label=_("业务类型"), choices=registry.choices)

    class Meta:
        model = MaterialsChecklist
        fields = ("office", "business_type", "items")


class MaterialsChecklistInline(admin.StackedInline):
    model = MaterialsChecklist
    form = ChecklistForm
    extra = 0
    fields = ("business_type", "items")


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin):
    form = OfficeForm
    list_display = ("code", "name", "address", "hours", "phone")
    search_fields = ("code", "name")
    inlines = [MaterialsChecklistInline]


class ChecklistBusinessTypeFilter(admin.SimpleListFilter):
    title = _("业务类型")
    parameter_name = "business_type"

    def lookups(self, request, model_admin):
        return registry.choices()

    def queryset(self, request, queryset):
        return queryset.filter(business_type=self.value()) if self.value() else queryset


# A checklist names its business type by the registry's name (in messages, the history and the
# recent actions), never by its code; the employers app knows no business types.
employers_models.business_type_label = registry.label_of


@admin.register(MaterialsChecklist)
class MaterialsChecklistAdmin(admin.ModelAdmin):
    form = ChecklistForm
    list_display = ("business_type_name", "office_name", "updated_at")
    list_filter = (ChecklistBusinessTypeFilter, "office")
    list_select_related = ("office",)

    @admin.display(description=_("业务类型"), ordering="business_type")
    def business_type_name(self, obj):
        return registry.label_of(obj.business_type)

    @admin.display(description=_("经办机构"), ordering="office__code")
    def office_name(self, obj):
        return str(obj.office) if obj.office else gettext("所有经办机构通用")


class EmployerForm(NoHiddenCharacters, forms.ModelForm):
    # Longer than 18 on input: spaces and full-width characters are normalised away.
    credit_code = forms.CharField(label=_("统一社会信用代码"), max_length=60)

    class Meta:
        model = Employer
        fields = (
            "number",
            "name",
            "credit_code",
            "office",
            "is_vip",
            "active",
            "risk_class",
            "injury_float_percent",
            "wage_tier",
            "contact_name",
            "contact_phone",
            "address",
        )

    text_fields = ("name", "contact_name", "contact_phone", "address")

    def clean_credit_code(self) -> str:
        code, error = check_uscc(self.cleaned_data.get("credit_code", ""))
        if error:
            raise forms.ValidationError(render(error, params=uscc_issue_params()), code=error)
        return code

    def clean(self):
        super().clean()
        data = self.cleaned_data
        self._refuse_hidden_characters()
        risk, grade = data.get("risk_class"), data.get("injury_float_percent")
        if risk == 1 and grade is not None and grade not in RISK1_FLOATS:
            self.add_error("injury_float_percent", _("一类行业风险单位的工伤费率浮动档次只能为 100%、120% 或 150%。"))
        return data


@admin.register(Employer)
class EmployerAdmin(admin.ModelAdmin):
    form = EmployerForm
    list_display = ("number", "name", "credit_code", "office", "is_vip", "risk_class", "injury_float_percent", "active")
    list_filter = ("is_vip", "office", "risk_class", "active")
    list_select_related = ("office",)
    search_fields = ("number", "name", "credit_code")
    ordering = ("number",)
    fieldsets = (
        (None, {"fields": ("number", "name", "credit_code", "office", "is_vip", "active")}),
        (_("工伤保险"), {"fields": ("risk_class", "injury_float_percent")}),
        (_("年度工资申报"), {"fields": ("wage_tier",)}),
        (_("联系方式"), {"fields": ("contact_name", "contact_phone", "address")}),
    )


@admin.register(employers_models.EmployerChange)
class EmployerChangeAdmin(admin.ModelAdmin):
    """单位信息变更记录: what each approved 单位信息变更 changed. History: read only."""

    list_display = ("changed_at", "employer", "shown_field", "old_value", "new_value", "transaction", "operator")
    list_filter = ("field",)
    search_fields = ("employer__number", "employer__name", "transaction__serial")
    list_select_related = ("employer", "transaction", "operator")
    date_hierarchy = "changed_at"

    @admin.display(description=_("变更项目"), ordering="field")
    def shown_field(self, obj):
        return obj.field_label

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
