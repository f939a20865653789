from django import template
from django.utils.http import urlencode
from django.utils.translation import gettext

from shebao.core.choices import InsuranceType
from shebao.core.text import list_separator

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
def insurance_label(code):
    try:
        return InsuranceType(code).label
    except ValueError:
        return code


@register.filter
def insurance_labels(codes):
    return list_separator().join(str(insurance_label(c)) for c in (codes or "").split(",") if c)


@register.filter
def label(obj):
    """The reader's-language name of anything with a `label` (business types, field specs)."""
    if obj is None:
        return ""
    return getattr(obj, "label", "") or str(obj)


@register.filter
def join_list(values):
    """A list joined with the reader's list separator (anything else is returned as it is, like `join`)."""
    if not isinstance(values, (list, tuple)):
        return values
    return list_separator().join(str(v) for v in values)


@register.filter
def reason_text(reason):
    """A stored reason (system reasons are saved as their Chinese msgids, joined with "；")
    shown in the reader's language; text a person typed stays as it is."""
    if not reason:
        return ""
    parts = [gettext(p) for p in str(reason).split("；") if p]
    # Translators: the separator of a list of sentences ("…；…"); English "; ".
    return gettext("；").join(parts)


@register.simple_tag(takes_context=True)
def query_with(context, key, value):
    """The current query string with one parameter replaced (for pagers)."""
    params = context["request"].GET.copy()
    params[key] = value
    return urlencode(sorted(params.lists()), doseq=True)
