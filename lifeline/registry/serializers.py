"""Registry API serializers: staff CRUD (full records) and the public A–Z (what a patron sees)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from lifeline.core.api_base import LibraryScopedSerializer
from lifeline.registry.choices import ContentType, Language, RouteKind
from lifeline.registry.models import AccessRoute, Category, KbartTitle, Resource, Vendor

NULLABLE_STRING = {"type": "string", "nullable": True}


class ContentTypesField(serializers.ListField):
    """The model keeps codes wrapped in commas (",journals,ebooks,"); the API speaks a list."""

    child = serializers.ChoiceField(choices=ContentType.choices)

    def to_representation(self, data: Any) -> list[str]:
        return [c for c in (data or "").split(",") if c]

    # Stored as one ",a,b," column so a filter is a single LIKE; DRF's stubs expect a list.
    def to_internal_value(self, data: Any) -> str:  # type: ignore[override]
        codes = super().to_internal_value(data)
        return "," + ",".join(sorted(set(codes))) + "," if codes else ""


# --- staff ---------------------------------------------------------------------------------


class VendorSerializer(LibraryScopedSerializer):
    class Meta:
        model = Vendor
        fields = [
            "id",
            "library",
            "key",
            "name",
            "name_en",
            "website",
            "contact_name",
            "phone",
            "email",
            "wechat",
            "escalation_name",
            "escalation_phone",
            "escalation_email",
            "response_hours",
            "preferred_language",
            "notes",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]


class CategorySerializer(LibraryScopedSerializer):
    class Meta:
        model = Category
        fields = ["id", "library", "language", "name", "name_en", "position"]


class SubResourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Resource
        fields = ["id", "key", "name", "name_en", "is_active"]
        read_only_fields = fields


class ResourceSerializer(LibraryScopedSerializer):
    content_types = ContentTypesField(required=False)
    children = SubResourceSerializer(many=True, read_only=True, help_text=_("Sub-databases."))

    class Meta:
        model = Resource
        fields = [
            "id",
            "library",
            "key",
            "parent",
            "vendor",
            "category",
            "name",
            "name_en",
            "description",
            "description_en",
            "language",
            "content_types",
            "homepage",
            "subscription_start",
            "first_subscribed",
            "subscription_end",
            "price",
            "currency",
            "off_campus_allowed",
            "concurrent_users",
            "walk_in_only",
            "text_mining",
            "is_trial",
            "is_active",
            "children",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


class AccessRouteSerializer(LibraryScopedSerializer):
    # The shared password is written here but never read back through the staff API: patrons
    # get it from the public guide once signed in, and the audit log masks it.
    account_password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        style={"input_type": "password"},
        help_text=_("Write-only. Send an empty string to remove it."),
    )
    has_password = serializers.SerializerMethodField(
        help_text=_("Whether a shared password is stored.")
    )
    link = serializers.SerializerMethodField(
        help_text=_("The link a patron follows (WAYFless or proxied).")
    )
    works_off_campus = serializers.BooleanField(read_only=True)

    class Meta:
        model = AccessRoute
        fields = [
            "id",
            "resource",
            "kind",
            "label",
            "url",
            "ip_ranges",
            "sp_login_url",
            "idp_entity_id",
            "target",
            "account_username",
            "account_password",
            "has_password",
            "starts_on",
            "ends_on",
            "instructions",
            "instructions_en",
            "priority",
            "is_active",
            "link",
            "works_off_campus",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def get_has_password(self, obj: AccessRoute) -> bool:
        return bool(obj.account_password)

    def get_link(self, obj: AccessRoute) -> str:
        return obj.link()


class KbartTitleSerializer(serializers.ModelSerializer):
    class Meta:
        model = KbartTitle
        fields = [
            "id",
            "resource",
            "title_id",
            "publication_title",
            "print_identifier",
            "online_identifier",
            "date_first_issue_online",
            "date_last_issue_online",
            "num_first_vol_online",
            "num_last_vol_online",
            "title_url",
            "first_author",
            "publisher_name",
            "publication_type",
            "coverage_depth",
        ]
        read_only_fields = fields


# --- public A–Z ----------------------------------------------------------------------------


class PublicCategorySerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()

    class Meta:
        model = Category
        fields = ["id", "name"]

    def get_name(self, obj: Category) -> str:
        return obj.display("name")


class PublicRouteSerializer(serializers.ModelSerializer):
    """A route as a patron sees it. The shared account shows only to a signed-in patron or staff
    member of the library; everyone else learns that one exists and must sign in."""

    kind = serializers.ChoiceField(choices=RouteKind.choices, read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    link = serializers.CharField(read_only=True)
    instructions = serializers.CharField(source="display_instructions", read_only=True)
    works_off_campus = serializers.BooleanField(read_only=True)
    sign_in_required = serializers.SerializerMethodField(
        help_text=_("A shared account exists; sign in to see it.")
    )
    account_username = serializers.SerializerMethodField()
    account_password = serializers.SerializerMethodField()

    class Meta:
        model = AccessRoute
        fields = [
            "kind",
            "kind_label",
            "label",
            "link",
            "instructions",
            "starts_on",
            "ends_on",
            "works_off_campus",
            "sign_in_required",
            "account_username",
            "account_password",
        ]
        read_only_fields = fields

    def _shows_account(self) -> bool:
        return bool(self.context.get("show_accounts"))

    def get_sign_in_required(self, obj: AccessRoute) -> bool:
        return bool(obj.account_username or obj.account_password) and not self._shows_account()

    @extend_schema_field(NULLABLE_STRING)
    def get_account_username(self, obj: AccessRoute) -> str | None:
        return obj.account_username if self._shows_account() else None

    @extend_schema_field(NULLABLE_STRING)
    def get_account_password(self, obj: AccessRoute) -> str | None:
        return obj.account_password if self._shows_account() else None


class PublicResourceSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()
    name_zh = serializers.CharField(source="name", read_only=True)
    language_label = serializers.SerializerMethodField()
    category = PublicCategorySerializer(read_only=True, allow_null=True)
    content_types = ContentTypesField(read_only=True)
    works_from_home = serializers.BooleanField(
        read_only=True, help_text=_("At least one route works off campus today.")
    )

    class Meta:
        model = Resource
        fields = [
            "key",
            "name",
            "name_zh",
            "name_en",
            "language",
            "language_label",
            "category",
            "content_types",
            "is_trial",
            "off_campus_allowed",
            "works_from_home",
        ]
        read_only_fields = fields

    def get_name(self, obj: Resource) -> str:
        return obj.display("name")

    def get_language_label(self, obj: Resource) -> str:
        # A method field: DRF inspects the signature of every callable `source` on every row.
        return (
            str(Language(obj.language).label) if obj.language in Language.values else obj.language
        )


class PublicSubResourceSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()

    class Meta:
        model = Resource
        fields = ["key", "name"]
        read_only_fields = fields

    def get_name(self, obj: Resource) -> str:
        return obj.display("name")


class PublicResourceDetailSerializer(PublicResourceSerializer):
    description = serializers.SerializerMethodField()
    vendor = serializers.SerializerMethodField(
        help_text=_("The vendor's name; contacts are for staff.")
    )
    parent = PublicSubResourceSerializer(read_only=True, allow_null=True)
    children = serializers.SerializerMethodField()
    routes = serializers.SerializerMethodField(
        help_text=_("Routes usable today, best first for a patron at home.")
    )

    class Meta(PublicResourceSerializer.Meta):
        fields = [
            *PublicResourceSerializer.Meta.fields,
            "description",
            "homepage",
            "vendor",
            "parent",
            "children",
            "concurrent_users",
            "walk_in_only",
            "text_mining",
            "routes",
        ]
        read_only_fields = fields

    def get_description(self, obj: Resource) -> str:
        return obj.display("description")

    @extend_schema_field(NULLABLE_STRING)
    def get_vendor(self, obj: Resource) -> str | None:
        return obj.vendor.display("name") if obj.vendor else None

    @extend_schema_field(PublicSubResourceSerializer(many=True))
    def get_children(self, obj: Resource) -> list[dict[str, Any]]:
        children = [c for c in obj.children.all() if c.is_active]
        return PublicSubResourceSerializer(children, many=True, context=self.context).data  # type: ignore[return-value]

    @extend_schema_field(PublicRouteSerializer(many=True))
    def get_routes(self, obj: Resource) -> list[dict[str, Any]]:
        return PublicRouteSerializer(obj.ordered_routes(), many=True, context=self.context).data  # type: ignore[return-value]
