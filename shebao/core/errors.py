"""Typed errors raised by services and shown to users."""

from __future__ import annotations

import logging
import secrets
from typing import Any


class ApplicationError(Exception):
    """A refusal a user can understand. `code` is stable; `message` is translated text."""

    status = 400

    def __init__(
        self, message: str, *, code: str = "error", extra: dict | None = None, messages: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.extra = extra or {}
        # The message in each language (language code → text), where the raiser rendered it in
        # more than the reader's (`in_languages`); the API's problem details carry them all.
        self.messages = messages or {}
        # The rule of the catalogue that refused (a workflow.rules.Issue), where one did.
        self.issue: Any = None

    def text(self) -> str:
        """The refusal for a page, in the reader's language: the rule's message rendered now
        where a rule refused (a file's checks run in Chinese), else the message as raised."""
        return str(self.issue.message()) if self.issue is not None else self.message


LANGUAGES = ("zh-hans", "en")


def in_languages(msgid: str, params: dict | None = None) -> dict[str, str]:
    """`msgid` (a Chinese source text) translated into each language and formatted with
    `params`: for a refusal whose message the API gives in Chinese and in English."""
    from django.utils import translation

    out = {}
    for language in LANGUAGES:
        with translation.override(language):
            text = translation.gettext(msgid)
            out[language] = text % params if params else text
    return out


class NotFound(ApplicationError):
    status = 404


class Conflict(ApplicationError):
    """Someone else changed the object first (stale version, a second clerk)."""

    status = 409


class PermissionDenied(ApplicationError):
    status = 403


def log_reference(logger: logging.Logger, message: str, *args: object, exc_info: bool = True) -> str:
    """Log `message` (with the exception being handled, by default) under a short reference
    and return it: the reference a user is shown and quotes to support, who find the
    traceback in the log by it."""
    reference = secrets.token_hex(4).upper()
    logger.error("[ref %s] " + message, reference, *args, exc_info=exc_info)
    return reference
