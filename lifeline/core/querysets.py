"""The one place where a queryset is narrowed to what a user may see or change."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from django.db import models

from lifeline.core.permissions import VIEW, library_ids_for

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


class RestrictedQuerySet(models.QuerySet[Any]):
    """A queryset whose model names the path to its library in `library_lookup`."""

    def restrict(self, user: AbstractBaseUser | AnonymousUser, action: str = VIEW) -> Self:
        if getattr(user, "is_superuser", False) and user.is_active:
            return self
        lookup = getattr(self.model, "library_lookup", "library")
        ids = library_ids_for(user, action)
        if not ids:
            return self.none()
        return self.filter(**{f"{lookup}__in": ids})

    def for_library(self, library: Any) -> Self:
        lookup = getattr(self.model, "library_lookup", "library")
        return self.filter(**{lookup: library})
