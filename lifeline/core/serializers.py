"""Serializers of the core API: libraries, the signed-in user, API tokens, the audit log."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from lifeline.core.choices import Role
from lifeline.core.models import ApiToken, AuditLog, Library, Membership
from lifeline.core.permissions import ROLE_ACTIONS


class LibrarySerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)

    class Meta:
        model = Library
        fields = [
            "id",
            "code",
            "name",
            "name_en",
            "display_name",
            "email",
            "phone",
            "proxy_prefix",
            "carsi_idp_entity_id",
            "campus_ip_ranges",
            "registry_changed_at",
        ]
        read_only_fields = fields


class LibraryBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Library
        fields = ["id", "code", "name", "name_en"]
        read_only_fields = fields


class MembershipSerializer(serializers.ModelSerializer):
    library = LibraryBriefSerializer(read_only=True)
    role = serializers.ChoiceField(choices=Role.choices, read_only=True)
    role_label = serializers.CharField(source="get_role_display", read_only=True)
    actions = serializers.SerializerMethodField(
        help_text=_("What this role may change, besides viewing.")
    )

    class Meta:
        model = Membership
        fields = ["id", "library", "role", "role_label", "is_active", "actions"]
        read_only_fields = fields

    def get_actions(self, obj: Membership) -> list[str]:
        return sorted(ROLE_ACTIONS.get(obj.role, frozenset()))


class PatronInfoSerializer(serializers.Serializer):
    library = LibraryBriefSerializer(read_only=True)
    category = serializers.CharField(read_only=True)
    display_name = serializers.CharField(read_only=True)


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    email = serializers.EmailField(read_only=True)
    is_superuser = serializers.BooleanField(read_only=True)
    memberships = serializers.SerializerMethodField()
    patron = serializers.SerializerMethodField()

    @extend_schema_field(MembershipSerializer(many=True))
    def get_memberships(self, user: Any) -> Any:
        rows = (
            Membership.objects.filter(user=user)
            .select_related("library")
            .order_by("library__code", "role")
        )
        return MembershipSerializer(rows, many=True).data

    @extend_schema_field(PatronInfoSerializer(allow_null=True))
    def get_patron(self, user: Any) -> Any:
        patron = getattr(user, "patron", None)
        return PatronInfoSerializer(patron).data if patron is not None else None


class ApiTokenSerializer(serializers.ModelSerializer):
    is_active = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "created_at",
            "last_used_at",
            "expires_at",
            "revoked_at",
            "is_active",
        ]
        read_only_fields = ["id", "prefix", "created_at", "last_used_at", "revoked_at", "is_active"]

    def get_is_active(self, obj: ApiToken) -> bool:
        now = timezone.now()
        return obj.revoked_at is None and (obj.expires_at is None or obj.expires_at > now)

    def validate_expires_at(self, value: Any) -> Any:
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError(_("The expiry must lie in the future."))
        return value


class NewApiTokenSerializer(ApiTokenSerializer):
    token = serializers.CharField(
        read_only=True, help_text=_("The token itself: shown this once, never again.")
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = [*ApiTokenSerializer.Meta.read_only_fields, "token"]


class AuditLogSerializer(serializers.ModelSerializer):
    changed_fields = serializers.SerializerMethodField(
        help_text=_("Field: [before, after] for each field that changed.")
    )

    class Meta:
        model = AuditLog
        fields = [
            "id",
            "at",
            "library",
            "user",
            "actor",
            "action",
            "model",
            "object_pk",
            "object_repr",
            "before",
            "after",
            "changed_fields",
            "message",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "array", "items": {}}})
    def get_changed_fields(self, obj: AuditLog) -> dict[str, list[Any]]:
        return {k: list(v) for k, v in obj.changed_fields().items()}
