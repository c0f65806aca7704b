from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import connections, router
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from lifeline.core import rows
from lifeline.core.audit import set_actor
from lifeline.core.models import ApiToken

# Set on the request by lifeline.core.api_base.audit_scoped: the view runs in a context of its own.
AUDIT_SCOPE_ATTR = "lifeline_api_audit_scope"


_TOKEN_SQL: dict[str, str] = {}


def active_token(digest: str) -> ApiToken | None:
    """The unrevoked, unexpired token with this digest and its user (as `ApiToken.objects.active()
    .select_related("user")`), in one hand-written query: every API request pays for this, and
    the ORM spent more CPU building that query than the rest of a small request (core/rows.py)."""
    user_model = get_user_model()
    conn = connections[router.db_for_read(ApiToken)]
    if conn.vendor not in _TOKEN_SQL:
        qn = conn.ops.quote_name
        columns = f"{rows.select_list(ApiToken, 't', qn)}, {rows.select_list(user_model, 'u', qn)}"
        tables = f"{qn(ApiToken._meta.db_table)} t JOIN {qn(user_model._meta.db_table)} u"
        _TOKEN_SQL[conn.vendor] = (
            f"SELECT {columns} FROM {tables} ON u.{qn(str(user_model._meta.pk.column))} = "  # noqa: S608
            f"t.{qn('user_id')} WHERE t.{qn('digest')} = %s AND t.{qn('revoked_at')} IS NULL "
            f"AND (t.{qn('expires_at')} IS NULL OR t.{qn('expires_at')} > %s)"
        )
    now = ApiToken._meta.get_field("expires_at").get_db_prep_value(timezone.now(), conn)
    with conn.cursor() as cur:
        cur.execute(_TOKEN_SQL[conn.vendor], [digest, now])
        row = cur.fetchone()
    if row is None:
        return None
    obj: ApiToken
    obj, obj.user = rows.instances((ApiToken, user_model), conn, row)
    return obj


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer ll_...` (or `Token ll_...`), checked against the stored SHA-256."""

    keywords = ("bearer", "token")

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header."))
        try:
            token = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(_("Invalid token header.")) from exc
        obj = active_token(ApiToken.hash(token))
        if obj is None or not obj.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked token."))
        if obj.last_used_at is None or (timezone.now() - obj.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=obj.pk).update(last_used_at=timezone.now())
        # The session middleware never sees a token's user: name it as the actor of this
        # request's audit rows, but only inside the context the API view runs in on its own.
        if getattr(request._request, AUDIT_SCOPE_ATTR, False):
            set_actor(obj.user, f"{obj.user.get_username()} (API {obj.prefix}…)")
        return obj.user, obj

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"
