"""Database sessions, looked up with one hand-written query (see shebao.core.rows).

The same table, the same expiry rule and the same behaviour as Django's database backend;
only the read that every request makes skips the ORM's query building.
"""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone

from shebao.core import rows


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        key = self.session_key
        if not key:
            self._session_key = None
            return None
        using = router.db_for_read(self.model)
        with connections[using].cursor() as cursor:
            cursor.execute(
                f"SELECT session_data FROM {rows.table(self.model, using)} "
                "WHERE session_key = %s AND expire_date > %s",
                [key, timezone.now()],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return self.model(session_key=key, session_data=row[0])
