"""Template filters for what the engine owns: rule messages and transaction states.

A builtin library (config/settings.py TEMPLATES), like shebao.core's shebao_tags.
"""

from django import template

from shebao.workflow.models import State
from shebao.workflow.rules import messages

register = template.Library()


@register.filter
def rule_messages(issues):
    """Stored issues rendered in the reader's language: '[CODE] message'."""
    return messages(issues or [])


@register.filter
def state_label(code):
    try:
        return State(code).label
    except ValueError:
        return code or ""
