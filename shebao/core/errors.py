"""Typed errors raised by services and shown to users."""

from __future__ import annotations


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
