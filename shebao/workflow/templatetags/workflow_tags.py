"""Template filters for what the engine owns: rule messages and transaction states.

A builtin library (config/settings.py TEMPLATES), like shebao.core's shebao_tags.
"""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from shebao.workflow.models import State
from shebao.workflow.rules import Issue, Shown, shown

register = template.Library()


def issue_html(issue: Shown | Issue) -> SafeString:
    """One problem as pages show it: the message, then its rule code small and grey (what a
    support call asks for), never the code first."""
    if isinstance(issue, Issue):
        issue = shown([issue])[0]
    return format_html(
        '{} <small class="rule-code" title="{}">{}</small>',
        issue.message,
        gettext("错误代码（咨询时可提供）"),
        issue.code,
    )


def issues_html(issues: Iterable[Shown], css: str = "reasons", testid: str = "") -> SafeString:
    """A list of problems (already split into errors or warnings) as a <ul>; '' when empty."""
    items = list(issues)
    if not items:
        return SafeString("")
    rows = format_html_join(
        "", '<li class="{}">{}</li>', (("warning" if i.warning else "error", issue_html(i)) for i in items)
    )
    if testid:
        return format_html('<ul class="{}" data-testid="{}">{}</ul>', css, testid, rows)
    return format_html('<ul class="{}">{}</ul>', css, rows)


@register.filter
def issue_list(issues, css: str = "reasons"):
    """`{{ shown_issues|issue_list }}`: stored issues or Shown entries as a list of messages."""
    items = [i for i in issues or [] if isinstance(i, Shown)] or shown(issues or [])
    return issues_html(items, css)


@register.filter
def state_label(code):
    try:
        return State(code).label
    except ValueError:
        return code or ""


@register.filter
def event_label(event) -> str:
    """A history line's 操作 (see services.event_label)."""
    from shebao.workflow.services import event_label as label

    return label(event.action, event.detail)


@register.filter
def event_via(event) -> str:
    """The API token a person's action came through, after the history's 操作人 ('' for a page)."""
    from shebao.workflow.services import event_via as via

    return via(event.detail)


@register.filter
def event_counts(event) -> str:
    """The persons a finishing event took effect with, for the history's 说明."""
    from shebao.workflow.services import event_counts as counts

    return counts(event.detail)


def counts_html(applied: int | None, failed: int | None, import_failed: int | None) -> SafeString:
    """A finished batch's counts beside 结束: 成功 in green, a failure count red only when > 0."""

    def part(template: str, n: int | None, bad: bool) -> SafeString:
        css = ("count-failed" if n else "") if bad else "count-ok"
        return format_html('<span class="{}">{}</span>', css, template % {"n": n or 0})

    return format_html(
        '<span class="counts" data-testid="result-counts">{} · {} · {}</span>',
        part(gettext("成功 %(n)s"), applied, False),
        part(gettext("审核失败 %(n)s"), failed, True),
        part(gettext("导入失败 %(n)s"), import_failed, True),
    )


@register.filter
def finish_counts(tx) -> SafeString:
    """`{{ tx|finish_counts }}`: counts_html of a transaction."""
    return counts_html(tx.applied_count, tx.audit_failed_count, tx.import_failed_count)
