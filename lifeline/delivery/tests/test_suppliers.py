"""The staff page of suppliers: every staff role of the library reads it, delivery staff add and
edit, nobody else sees it; both languages."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from lifeline.conftest import client_for
from lifeline.core.models import AuditLog
from lifeline.delivery.choices import SupplierKind
from lifeline.delivery.models import Supplier

pytestmark = pytest.mark.django_db


def test_list_is_for_the_library_staff(
    library_a: Any,
    outside_supplier: Supplier,
    delivery_a: Any,
    tech_a: Any,
    patron_a: Any,
    librarian_b: Any,
) -> None:
    url = reverse("delivery:suppliers", args=[library_a.code])
    page = client_for(delivery_a).get(url).content.decode()
    assert "供应方" in page and "WorldLib" in page  # Chinese first
    assert reverse("delivery:supplier_new", args=[library_a.code]) in page
    # A staff role without delivery.change reads the list but has no add or edit links.
    page = client_for(tech_a).get(url).content.decode()
    assert "WorldLib" in page
    assert reverse("delivery:supplier_new", args=[library_a.code]) not in page
    assert client_for(patron_a).get(url).status_code == 403
    assert client_for(librarian_b).get(url).status_code == 403
    queue = reverse("delivery:queue", args=[library_a.code])
    assert url in client_for(delivery_a).get(queue).content.decode()


def test_page_in_english(library_a: Any, outside_supplier: Supplier, delivery_a: Any) -> None:
    client = client_for(delivery_a)
    url = reverse("delivery:suppliers", args=[library_a.code])
    page = client.get(url, {"lang": "en"}).content.decode()
    assert "Suppliers" in page and "Add a supplier" in page and "Outside service" in page


def test_create_and_edit(library_a: Any, library_b: Any, delivery_a: Any) -> None:
    client = client_for(delivery_a)
    new = reverse("delivery:supplier_new", args=[library_a.code])
    response = client.post(
        new,
        {
            "name": "哈工大图书馆",
            "name_en": "HIT Library",
            "kind": SupplierKind.PARTNER,
            "partner": library_b.pk,
            "email": "ill@hit.example.edu",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    supplier = Supplier.objects.get(library=library_a, name="哈工大图书馆")
    assert supplier.partner == library_b and supplier.is_active
    assert AuditLog.objects.filter(object_pk=str(supplier.pk), user=delivery_a).exists()
    edit = reverse("delivery:supplier_edit", args=[library_a.code, supplier.pk])
    assert "HIT Library" in client.get(edit).content.decode()
    response = client.post(
        edit, {"name": "哈工大图书馆", "kind": SupplierKind.PARTNER, "partner": library_b.pk}
    )
    assert response.status_code == 302
    supplier.refresh_from_db()
    assert not supplier.is_active and supplier.name_en == ""


def test_form_refuses_what_the_model_refuses(
    library_a: Any, outside_supplier: Supplier, delivery_a: Any
) -> None:
    client = client_for(delivery_a)
    new = reverse("delivery:supplier_new", args=[library_a.code]) + "?lang=en"
    same_name = client.post(new, {"name": "WorldLib", "kind": SupplierKind.OUTSIDE})
    assert same_name.status_code == 200
    assert "already has a supplier of that name" in same_name.content.decode()
    no_partner = client.post(new, {"name": "Partner", "kind": SupplierKind.PARTNER})
    assert no_partner.status_code == 200
    # The own library is not offered as a partner.
    own = client.post(new, {"name": "Self", "kind": SupplierKind.PARTNER, "partner": library_a.pk})
    assert own.status_code == 200
    assert Supplier.objects.filter(library=library_a).count() == 1


def test_editing_needs_the_change_action_in_that_library(
    library_a: Any,
    library_b: Any,
    outside_supplier: Supplier,
    delivery_a: Any,
    tech_a: Any,
    librarian_b: Any,
) -> None:
    edit = reverse("delivery:supplier_edit", args=[library_a.code, outside_supplier.pk])
    new = reverse("delivery:supplier_new", args=[library_a.code])
    for user in (tech_a, librarian_b):
        client = client_for(user)
        assert client.get(edit).status_code == 403
        assert client.post(new, {"name": "x", "kind": SupplierKind.OUTSIDE}).status_code == 403
    assert Supplier.objects.count() == 1
    # Another library's supplier under this library's address is not found.
    other = Supplier.objects.create(library=library_b, name="B", kind=SupplierKind.OUTSIDE)
    url = reverse("delivery:supplier_edit", args=[library_a.code, other.pk])
    assert client_for(delivery_a).get(url).status_code == 404
