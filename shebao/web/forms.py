"""Forms built from a business type's field specs: one declaration, every page."""

from __future__ import annotations

from django import forms
from django.utils.safestring import SafeString

from shebao.workflow.fields import FieldSpec
from shebao.workflow.rules import Issue
from shebao.workflow.templatetags.workflow_tags import issue_html


def _field_for(spec: FieldSpec) -> forms.Field:
    attrs = {"data-kind": spec.kind, "autocomplete": "off"}
    if spec.kind in ("choice", "id_type", "bool"):
        assert spec.choices is not None, f"{spec.name}: a {spec.kind} field declares its choices"
        choices = [("", "—"), *spec.choices.choices]
        return forms.ChoiceField(choices=choices, required=False, widget=forms.Select(attrs=attrs))
    if spec.kind == "insurance":
        assert spec.choices is not None, f"{spec.name}: an insurance field declares its choices"
        return forms.MultipleChoiceField(
            choices=spec.choices.choices, required=False, widget=forms.CheckboxSelectMultiple(attrs=attrs)
        )
    if spec.kind == "month":
        attrs.update(type="month", placeholder="2025-03")
    elif spec.kind == "date":
        attrs.update(type="date")
    elif spec.kind == "money":
        attrs.update(inputmode="decimal", placeholder="0.00")
    elif spec.kind == "phone":
        attrs.update(inputmode="tel")
    return forms.CharField(required=False, max_length=max(spec.max_length, 40) * 2, widget=forms.TextInput(attrs=attrs))


def _set_spec_required(field: forms.Field, required: bool) -> None:
    """Whether the spec requires the field, as `spec_required` on the form field (which is
    itself never required: the row checks say what is missing). Django's Field declares no
    such attribute, hence setattr."""
    setattr(field, "spec_required", required)  # noqa: B010


class SpecForm(forms.Form):
    """A form of a business type's fields (the subclass spec_form makes holds them).
    attach_issues() sets `warnings`: the warning texts per field name."""

    warnings: dict[str, list[str]]


def spec_form(specs: list[FieldSpec], data: dict | None = None, initial: dict | None = None) -> SpecForm:
    fields = {}
    for spec in specs:
        field = _field_for(spec)
        field.label = spec.label
        field.help_text = spec.help_for("form")
        _set_spec_required(field, spec.required)
        fields[spec.name] = field
    form_class = type("SpecForm", (SpecForm,), fields)
    if initial:
        initial = dict(initial)
        for spec in specs:
            if spec.kind == "insurance" and isinstance(initial.get(spec.name), str):
                initial[spec.name] = [v for v in initial[spec.name].split(",") if v]
    return form_class(data=data, initial=initial or {s.name: s.default for s in specs if s.default})


def raw_from_form(specs: list[FieldSpec], post) -> dict:
    raw = {}
    for spec in specs:
        if spec.kind == "insurance":
            raw[spec.name] = ",".join(post.getlist(spec.name))
        else:
            raw[spec.name] = post.get(spec.name, "")
    return raw


def attach_issues(form: SpecForm, issues: list[Issue]) -> list[SafeString]:
    """Errors and warnings go under their field; the rest is returned for the page top."""
    general = []
    form.is_bound and form.is_valid()
    form.warnings = {}
    for issue in issues:
        text = issue_html(issue)
        if issue.field in form.fields:
            if issue.is_error:
                form.errors.setdefault(issue.field, form.error_class()).append(text)
            else:
                form.warnings.setdefault(issue.field, []).append(text)
        else:
            general.append(text)
    return general
