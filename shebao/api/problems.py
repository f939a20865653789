"""Every error of the API in one format: RFC 9457 problem details (application/problem+json).

    {"type": "urn:shebao:problem:STALE", "title": "Conflict", "status": 409,
     "detail": "<the message in the request's language>", "code": "STALE",
     "messages": {"zh-hans": "…", "en": "…"},
     "issues": [{"code": "ID_CHECKSUM", "severity": "error", "field": "id_number", "row": 3,
                 "messages": {"zh-hans": "…", "en": "…"}}]}

`code` is the rule catalogue's code where a rule refused (GET /api/v1/rules lists them) or
the refusal's own stable code; `issues` lists every rule that refused, with its row number
for rows of a file or of a JSON list.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Iterable
from http import HTTPStatus

from django.http import HttpResponse
from django.utils.translation import gettext_noop

from shebao.core.errors import LANGUAGES, ApplicationError, in_languages
from shebao.workflow.rules import Issue

CONTENT_TYPE = "application/problem+json"
# The language the client asked for (Accept-Language: en, else Chinese): `detail` is in it.
REQUESTED = contextvars.ContextVar("api_language", default=LANGUAGES[0])


def issue_messages(issue: Issue) -> dict[str, str]:
    """An issue's message in every language."""
    return {language: issue.message(language) for language in LANGUAGES}


def issue_json(issue: Issue, row: int | None = None) -> dict:
    out: dict = {
        "code": issue.code,
        "severity": str(issue.severity),
        "field": issue.field,
        "messages": issue_messages(issue),
    }
    if row is not None:
        out["row"] = row
    return out


def body(
    status: int,
    code: str,
    messages: dict[str, str],
    *,
    issues: Iterable[dict] = (),
    extra: dict | None = None,
) -> dict:
    language = REQUESTED.get()
    detail = messages.get(language) or messages.get(LANGUAGES[0]) or next(iter(messages.values()), "")
    out = {
        "type": f"urn:shebao:problem:{code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        "messages": {language: messages.get(language, detail) for language in LANGUAGES},
        "issues": list(issues),
    }
    if extra:
        out.update(extra)
    return out


def response(
    status: int,
    code: str,
    messages: dict[str, str],
    *,
    issues: Iterable[dict] = (),
    extra: dict | None = None,
    headers: dict | None = None,
) -> HttpResponse:
    content = json.dumps(body(status, code, messages, issues=issues, extra=extra), ensure_ascii=False)
    out = HttpResponse(content, status=status, content_type=CONTENT_TYPE)
    for name, value in (headers or {}).items():
        out[name] = value
    return out


def of_msgid(status: int, code: str, msgid: str, params: dict | None = None, **kwargs) -> HttpResponse:
    """A refusal of the API itself: its Chinese source text, rendered in both languages."""
    return response(status, code, in_languages(msgid, params), **kwargs)


def of_issues(status: int, issues: list[tuple[Issue, int | None]], **kwargs) -> HttpResponse:
    """Rules refused: the first error leads (code, detail); every issue is listed."""
    errors = [(i, r) for i, r in issues if i.is_error] or issues
    lead, row = errors[0]
    listed = [issue_json(i, r) for i, r in issues]
    messages = issue_messages(lead)
    if row is not None:
        messages = {language: _row_prefix(language, row) + text for language, text in messages.items()}
    return response(status, lead.code, messages, issues=listed, **kwargs)


def _row_prefix(language: str, row: int) -> str:
    return in_languages(gettext_noop("第 %(row)d 行："), {"row": row})[language]


def error_messages(error: ApplicationError) -> dict[str, str]:
    """A service's refusal in both languages: what it rendered in each (`messages`); the rule
    it names (`issue`); or its message translated as a source text (a message without
    parameters is its msgid); else the message as it was rendered, in both."""
    if error.messages:
        return error.messages
    issue = getattr(error, "issue", None)
    if isinstance(issue, Issue):
        return issue_messages(issue)
    # The API runs its services in Chinese (see middleware): the message is the source text.
    return in_languages(error.message)


def of_error(error: ApplicationError, **kwargs) -> HttpResponse:
    issue = getattr(error, "issue", None)
    issues = [issue_json(issue)] if isinstance(issue, Issue) else []
    extra = {k: v for k, v in (error.extra or {}).items() if k in ("who", "when", "action")}
    return response(error.status, error.code, error_messages(error), issues=issues, extra=extra or None, **kwargs)
