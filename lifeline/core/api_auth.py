from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from lifeline.core.audit import set_actor
from lifeline.core.models import ApiToken

# Set on the request by lifeline.core.api_base.audit_scoped: the view runs in a context of its own.
AUDIT_SCOPE_ATTR = "lifeline_api_audit_scope"


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
        obj = (
            ApiToken.objects.active()
            .select_related("user")
            .filter(digest=ApiToken.hash(token))
            .first()
        )
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
