"""The version of an employer's task lists: what the cached 首页 lists are keyed by.

Every write to a transaction that a task-list row shows bumps the employer's
``TaskListStamp`` (shebao.employers.models) once the write has committed (the manager below
sees to it, whatever service made the write). A reader takes the stamp *before* it queries the lists, so what it
caches under a version is never older than that version; the next committed change makes a
new version, and the old entries are simply never asked for again.

The bump runs after commit, in its own short statement, so a long batch transaction never
holds the stamp row and never makes a single submission of the same employer wait.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connections, models, transaction

from shebao.employers.models import Employer, TaskListStamp

# Fields a task-list row never shows: writing only these is not a change of the lists.
UNLISTED_FIELDS = frozenset(
    {
        "progress_done",
        "progress_total",
        "heartbeat_at",
        "touched_at",
        "header",
        "needs_review",
        "job_attempts",
        "job_error",
    }
)


class _Bump:
    """The after-commit bump of a database transaction: the employers it changed, gathered
    from every write of the transaction, so that each stamp is bumped once per commit."""

    def __init__(self, ids: set[int], using: str) -> None:
        self.ids, self.using = ids, using

    def __call__(self) -> None:
        bump(self.ids, using=self.using)


def bump_after_commit(employer_ids: Iterable[int], using: str = "default") -> None:
    ids = {int(i) for i in employer_ids if i is not None}
    if not ids:
        return
    # A bump already waiting for this commit takes these employers too. One registered in a
    # savepoint that was rolled back is gone from the list, and a new one is registered; ids
    # added from a savepoint later rolled back are bumped anyway (a bump too many is harmless).
    for entry in getattr(connections[using], "run_on_commit", ()):
        if isinstance(entry[1], _Bump):
            entry[1].ids |= ids
            return
    transaction.on_commit(_Bump(ids, using), using=using)


def bump(employer_ids: Iterable[int], using: str = "default") -> None:
    """Add one to each employer's stamp (an upsert: the first change creates the row)."""
    table = connections[using].ops.quote_name(TaskListStamp._meta.db_table)
    with connections[using].cursor() as cursor:
        for employer_id in sorted(set(employer_ids)):
            cursor.execute(
                f"INSERT INTO {table} (employer_id, version) VALUES (%s, 1) "
                f"ON CONFLICT (employer_id) DO UPDATE SET version = {table}.version + 1",
                [employer_id],
            )


def version_of(employer) -> int:
    """The employer's current stamp; 0 before its first change.

    Employer pages read it together with the employer (shebao.accounts.scoping).
    """
    if hasattr(employer, "task_list_version"):
        return employer.task_list_version

    try:
        return employer.task_list_stamp.version
    except TaskListStamp.DoesNotExist:
        return 0


class TransactionQuerySet(models.QuerySet):
    """Bulk writes of transactions bump the stamps of the employers they touch."""

    def update(self, **kwargs):
        if set(kwargs) <= UNLISTED_FIELDS:
            return super().update(**kwargs)
        before = dict(self.order_by().values_list("pk", "employer_id"))
        count = super().update(**kwargs)
        if count:
            # More rows updated than looked up a moment before (a row's state moved in between):
            # then every employer's lists are refreshed rather than one left stale.
            bump_after_commit(before.values() if count <= len(before) else _all_employer_ids(), using=self.db)
        return count

    def update_of(self, employer_id: int, **kwargs):
        """update() of rows the caller knows are all of one employer (a transition of one
        transaction): no query to find whose lists the change touches."""
        count = models.QuerySet.update(self, **kwargs)
        if count and not set(kwargs) <= UNLISTED_FIELDS:
            bump_after_commit([employer_id], using=self.db)
        return count

    def delete(self):
        employer_ids = self._employer_ids()
        result = super().delete()
        if result[0]:
            bump_after_commit(employer_ids, using=self.db)
        return result

    def bulk_create(self, objs, *args, **kwargs):
        objs = super().bulk_create(objs, *args, **kwargs)
        bump_after_commit((o.employer_id for o in objs), using=self.db)
        return objs

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs = list(objs)
        count = super().bulk_update(objs, fields, *args, **kwargs)
        if not set(fields) <= UNLISTED_FIELDS:
            bump_after_commit((o.employer_id for o in objs), using=self.db)
        return count

    def _employer_ids(self) -> set[int]:
        return set(self.order_by().values_list("employer_id", flat=True).distinct())


def _all_employer_ids() -> list[int]:
    return list(Employer.objects.values_list("pk", flat=True))
