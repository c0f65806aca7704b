"""The sign-in backend: Django's `ModelBackend`, with the signed-in user read by one hand-written
SELECT.

Every signed-in request reads its user (Django's `auth.get_user`, through the backend named in
the session). Through the ORM that read cost ~0.45 ms of CPU building the query against ~0.1 ms
for the query itself (core/rows.py); on the patron's busiest page (selection's browse, issue 12:
p99 ≤ 100 ms at 200,000 titles) it was a tenth of the page. Passwords, permissions and
`user_can_authenticate` are Django's unchanged.

Sessions made before this backend was named in AUTHENTICATION_BACKENDS carry Django's path;
`core.sessions` reads them as this one's (`LEGACY_PATH`), so nobody is signed out by the change.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import backends, get_user_model
from django.core.exceptions import ValidationError

from lifeline.core import rows

PATH = "lifeline.core.backends.ModelBackend"
LEGACY_PATH = "django.contrib.auth.backends.ModelBackend"


class ModelBackend(backends.ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        """As Django's: the active user with this primary key, or None."""
        model = get_user_model()
        pk_field = model._meta.pk
        assert pk_field is not None
        try:
            pk = pk_field.to_python(user_id)
        except ValidationError:
            return None  # a malformed id in a session: nobody (the ORM raised ValueError)
        user = rows.by_unique(model, pk_field.name, pk)
        return user if user is not None and self.user_can_authenticate(user) else None
