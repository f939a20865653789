from django import template
from django.utils.http import urlencode

from shebao.core.choices import InsuranceType
from shebao.workflow.rules import messages

register = template.Library()


@register.filter
def get_item(mapping, key):
    if mapping is None:
        return None
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def rule_messages(issues):
    """Stored issues rendered in the reader's language: '[CODE] message'."""
    return messages(issues or [])


@register.filter
def insurance_label(code):
    try:
        return InsuranceType(code).label
    except ValueError:
        return code


@register.filter
def insurance_labels(codes):
    return "、".join(str(insurance_label(c)) for c in (codes or "").split(",") if c)


@register.simple_tag(takes_context=True)
def query_with(context, key, value):
    """The current query string with one parameter replaced (for pagers)."""
    params = context["request"].GET.copy()
    params[key] = value
    return urlencode(sorted(params.lists()), doseq=True)


@register.filter
def state_label(code):
    from shebao.workflow.models import State

    try:
        return State(code).label
    except ValueError:
        return code or ""
