"""Typed errors raised by services and shown to users."""

from __future__ import annotations

import logging
import secrets


class ApplicationError(Exception):
    """A refusal a user can understand. `code` is stable; `message` is translated text."""

    status = 400

    def __init__(self, message: str, *, code: str = "error", extra: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.extra = extra or {}


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
