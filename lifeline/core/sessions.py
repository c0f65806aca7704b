"""The session store: Django's database sessions, read with one hand-written SELECT.

Every signed-in request reads its session first. Through the ORM that read cost ~0.45 ms of
CPU building the query against ~0.1 ms for the query itself (core/rows.py); on the patron's
busiest pages (selection's browse, issue 12) it was a tenth of the page. Everything else is
Django's `db` store unchanged: the same table and rows, writes, expiry, `clearsessions`, the
"sign out everywhere" deletes. A cached store (`cached_db`) was not taken: without Redis the
cache is per process, and a session deleted at sign-out in one web worker would have stayed
valid in the others' caches.

A session written before `core.backends.ModelBackend` (the user read by hand) was named in
AUTHENTICATION_BACKENDS names Django's `ModelBackend`; it is read as naming ours (`decode`), or
Django's `auth.get_user` would refuse it and sign its owner out.

settings.SESSION_ENGINE = "lifeline.core.sessions".
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone

from lifeline.core.backends import LEGACY_PATH, PATH


class SessionStore(db.SessionStore):
    def decode(self, session_data: bytes | str) -> dict[str, Any]:
        data: dict[str, Any] = super().decode(session_data)
        if data.get(BACKEND_SESSION_KEY) == LEGACY_PATH:
            data[BACKEND_SESSION_KEY] = PATH
        return data

    def _get_session_from_db(self) -> Any:
        """As `Session.objects.get(session_key=…, expire_date__gt=now)`: the row (only its data
        is read) or None, and then no session key, as Django's store leaves it."""
        key = self.session_key  # None when the cookie's key was malformed (Django checks it)
        if key is None:
            return None
        model = self.model
        conn = connections[router.db_for_read(model)]
        qn = conn.ops.quote_name
        sql = (
            f"SELECT {qn('session_data')} FROM {qn(model._meta.db_table)}"  # noqa: S608
            f" WHERE {qn('session_key')} = %s AND {qn('expire_date')} > %s"
        )
        now = model._meta.get_field("expire_date").get_db_prep_value(timezone.now(), conn)
        with conn.cursor() as cur:
            cur.execute(sql, [key, now])
            row = cur.fetchone()
        if row is None:
            self._session_key = None
            return None
        return model(session_key=key, session_data=row[0])
