"""CARSI (SAML 2.0) pages: SP metadata, the where-are-you-from list, the assertion consumer."""

from __future__ import annotations

from django.contrib.auth import login as auth_login
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from saml2.metadata import create_metadata_string

from lifeline.accounts.models import SamlIdentityProvider
from lifeline.accounts.saml import flow
from lifeline.accounts.saml.client import sp_config
from lifeline.core.clientip import client_ip
from lifeline.core.models import Library

MAX_RESPONSE_BYTES = 512 * 1024


def _safe_next(request: HttpRequest, target: str) -> str:
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        return target
    return ""


@require_GET
@cache_control(max_age=3600, public=True)
def metadata(request: HttpRequest) -> HttpResponse:
    """The SP metadata to register with the CARSI federation (signed with the SP key)."""
    xml = create_metadata_string(None, config=sp_config(), valid=24 * 365, sign=True)
    return HttpResponse(xml, content_type="application/samlmetadata+xml")


@never_cache
@require_GET
def discovery(request: HttpRequest) -> HttpResponse:
    """Where are you from: `?idp=` goes to that IdP, `?library=` to its home IdP, else the list."""
    next_url = _safe_next(request, request.GET.get("next", ""))
    idps = SamlIdentityProvider.objects.active().select_related("library")
    entity = request.GET.get("idp", "")
    if entity:
        idp = get_object_or_404(idps, entity_id=entity)
        return HttpResponseRedirect(flow.start(idp, next_url))
    library_code = request.GET.get("library", "")
    library = Library.objects.filter(code=library_code).first() if library_code else None
    if library is not None:
        home = idps.filter(library=library, is_home=True).first()
        if home is not None:
            return HttpResponseRedirect(flow.start(home, next_url))
        idps = idps.filter(library=library)
    query = request.GET.get("q", "").strip()[:100]
    if query:
        idps = idps.filter(
            Q(name__icontains=query) | Q(name_en__icontains=query) | Q(scopes__icontains=query)
        )
    return render(
        request,
        "accounts/discovery.html",
        {"idps": idps.order_by("name")[:300], "query": query, "next": next_url, "library": library},
    )


@csrf_exempt  # the IdP POSTs cross-site; the signed assertion, not a CSRF token, protects this
@never_cache
@require_POST
def acs(request: HttpRequest) -> HttpResponse:
    encoded = request.POST.get("SAMLResponse", "")
    if len(encoded) > MAX_RESPONSE_BYTES:
        encoded = ""
    try:
        result = flow.finish(encoded, remote_addr=client_ip(request))
    except flow.SamlRefused as refused:
        return render(request, "accounts/saml_refused.html", {"message": str(refused)}, status=403)
    auth_login(request, result.user, backend="django.contrib.auth.backends.ModelBackend")
    target = _safe_next(request, result.next_url) or reverse(
        "registry:az", args=[result.patron.library.code]
    )
    return HttpResponseRedirect(target)
