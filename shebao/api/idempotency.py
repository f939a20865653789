"""Idempotency-Key on every POST (per token, in the database).

The first request with a key inserts its row (running) in a commit of its own, then runs; its
response is stored on the row. A retry with the same key and the same request gets that
response again, changing nothing; with another request, 422; while the first still runs, 409.
The unique (token, key) makes concurrent retries race on the insert, which one of them wins.
A request that failed with a 5xx leaves no row: retrying it runs it again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from shebao.api.models import ApiToken, IdempotencyKey

KEY_MAX = 255
# Response headers a replay repeats.
KEPT_HEADERS = ("Location", "Retry-After")


@dataclass
class Outcome:
    """begin(): `record` to finish, or what to answer instead (`replay`, `conflict`, `reused`)."""

    record: IdempotencyKey | None = None
    replay: IdempotencyKey | None = None
    running: bool = False
    reused: bool = False


def valid_key(key: str) -> bool:
    return 0 < len(key) <= KEY_MAX and all(" " <= c <= "~" for c in key)


def fingerprint(method: str, path: str, query: str, content_type: str, parts: list[bytes]) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query.encode(), content_type.encode(), *parts):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def begin(token: ApiToken, key: str, print_: str, now: dt.datetime | None = None) -> Outcome:
    now = now or timezone.now()
    try:
        with transaction.atomic():
            record = IdempotencyKey.objects.create(token=token, key=key, fingerprint=print_)
        return Outcome(record=record)
    except IntegrityError:
        pass
    found = IdempotencyKey.objects.filter(token=token, key=key).first()
    if found is None:  # deleted meanwhile (its request failed): this one may run
        return begin(token, key, print_, now)
    if found.fingerprint != print_:
        return Outcome(reused=True)
    if found.finished_at is not None:
        return Outcome(replay=found)
    stale = now - dt.timedelta(seconds=settings.SHEBAO_API_RUNNING_SECONDS)
    if found.created_at < stale:
        # Its process died mid-request: take it over, if no other retry did first.
        if IdempotencyKey.objects.filter(pk=found.pk, finished_at__isnull=True, created_at=found.created_at).update(
            created_at=now
        ):
            found.created_at = now
            return Outcome(record=found)
    return Outcome(running=True)


def finish(record: IdempotencyKey, status: int, content_type: str, headers: dict, content: bytes) -> None:
    if status >= 500:
        abandon(record)
        return
    IdempotencyKey.objects.filter(pk=record.pk).update(
        finished_at=timezone.now(), status=status, content_type=content_type[:100], headers=headers, body=content
    )


def abandon(record: IdempotencyKey) -> None:
    IdempotencyKey.objects.filter(pk=record.pk).delete()


def prune(now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    deleted, _ = IdempotencyKey.objects.filter(
        created_at__lt=now - dt.timedelta(hours=settings.SHEBAO_API_IDEMPOTENCY_HOURS)
    ).delete()
    return deleted
