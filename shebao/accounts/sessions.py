"""Database sessions, looked up with one hand-written query (see shebao.core.rows).

The same table, the same expiry rule and the same behaviour as Django's database backend;
only the read that every request makes skips the ORM's query building, and on SQLite a
save that only refreshes the idle clock never waits for the database's single write lock.
"""

from __future__ import annotations

import copy
import logging

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import UpdateError
from django.db import connections, router
from django.utils import timezone

from shebao.core import rows

log = logging.getLogger(__name__)

TOUCH_KEY = "last_seen"  # written by accounts.middleware.IdleTimeoutMiddleware
TOUCH_WAIT_MS = 100


class SessionStore(db.SessionStore):
    _loaded: dict | None = None

    def load(self):
        data = super().load()
        if connections[router.db_for_write(self.model)].vendor == "sqlite":
            self._loaded = copy.deepcopy(data)  # what _touch_only compares with
        return data

    def _touch_only(self) -> bool:
        """Nothing but the idle clock changed since the session was read."""
        if self._loaded is None:
            return False
        current = {k: v for k, v in self.items() if k != TOUCH_KEY}
        return current == {k: v for k, v in self._loaded.items() if k != TOUCH_KEY}

    def save(self, must_create=False):
        """On SQLite, while a long write (a big batch being applied, all in one database
        transaction) holds the write lock, a poll or a page that only refreshes the idle
        clock would wait for it: the refresh is skipped instead and made by a later request."""
        using = router.db_for_write(self.model)
        connection = connections[using]
        if must_create or connection.vendor != "sqlite" or not self._touch_only():
            return super().save(must_create=must_create)
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout")
            waited = cursor.fetchone()[0]
            cursor.execute(f"PRAGMA busy_timeout = {TOUCH_WAIT_MS}")
        try:
            return super().save(must_create=False)
        except UpdateError as error:  # Django's wrapping of the database error
            if "locked" not in str(error.__context__):
                raise
            log.debug("session %s: idle clock not refreshed, the database is busy", self.session_key)
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA busy_timeout = {int(waited)}")

    def _get_session_from_db(self):
        key = self.session_key
        if not key:
            self._session_key = None
            return None
        using = router.db_for_read(self.model)
        with connections[using].cursor() as cursor:
            cursor.execute(
                f"SELECT session_data FROM {rows.table(self.model, using)} WHERE session_key = %s AND expire_date > %s",
                [key, timezone.now()],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return self.model(session_key=key, session_data=row[0])
