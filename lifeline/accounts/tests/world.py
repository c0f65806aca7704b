"""Library A filled with records whose private fields carry markers a leak test can look for."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model

from lifeline.accounts.models import SamlIdentityProvider
from lifeline.core.models import ApiToken, Patron
from lifeline.registry.choices import RouteKind
from lifeline.registry.models import AccessRoute, Category, Resource, Vendor

IDP_METADATA = """<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.nefu.edu.cn/idp/shibboleth">
<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.nefu.edu.cn/idp/profile/SAML2/Redirect/SSO"/>
</md:IDPSSODescriptor></md:EntityDescriptor>"""


@dataclass
class World:
    library: Any
    # Private to library A's staff: no stranger, patron or other library may see these.
    staff_only: list[str] = field(default_factory=list)
    # Private even from A's patrons, but a patron may be shown shared-account credentials.
    patron_may_see: list[str] = field(default_factory=list)


def build(library: Any, text: str = "") -> World:
    """Records of `library`; `text` (e.g. a <script> payload) is put into every name."""
    mark = text or "MARKER"
    vendor = Vendor.objects.create(
        library=library,
        key="cnki",
        name=f"{text}CNKI",
        contact_name="MARKER-VENDOR-CONTACT",
        phone="MARKER-555-0199",
        email="marker-vendor@secret.example",
        notes="MARKER-VENDOR-NOTES",
        escalation_name="MARKER-ESCALATION",
    )
    category = Category.objects.create(library=library, language="zh", name=f"{text}综合")
    resource = Resource.objects.create(
        library=library,
        key="cnki-journals",
        name=f"{text}中国知网",
        vendor=vendor,
        category=category,
        description=f"{text}期刊全文",
        homepage="https://www.cnki.net/",
    )
    AccessRoute.objects.create(
        resource=resource,
        kind=RouteKind.ACCOUNT,
        label=f"{text}shared",
        url="https://www.cnki.net/",
        account_username="MARKER-ACCOUNT-USER",
        account_password="MARKER-ACCOUNT-PASSWORD",
    )
    AccessRoute.objects.create(
        resource=resource, kind=RouteKind.CARSI, url="https://fsso.cnki.net/", label=f"{text}CARSI"
    )
    other = get_user_model().objects.create_user("patron_secret", password=None)
    Patron.objects.create(
        user=other,
        library=library,
        display_name=f"{text}MARKER-PATRON-NAME",
        phone="MARKER-PATRON-PHONE",
    )
    SamlIdentityProvider.objects.create(
        library=library,
        entity_id="https://idp.nefu.edu.cn/idp/shibboleth",
        name=f"{text}东北林业大学",
        scopes="nefu.edu.cn",
        metadata_xml=IDP_METADATA,
    )
    staff = library.memberships.select_related("user").first()
    if staff is not None:
        ApiToken.issue(staff.user, f"{text}harvester")
    del mark
    return World(
        library=library,
        staff_only=[
            "MARKER-VENDOR-CONTACT",
            "MARKER-555-0199",
            "marker-vendor@secret.example",
            "MARKER-VENDOR-NOTES",
            "MARKER-ESCALATION",
            "MARKER-PATRON-NAME",
            "MARKER-PATRON-PHONE",
        ],
        patron_may_see=["MARKER-ACCOUNT-PASSWORD"],
    )
