"""CARSI (SAML 2.0) pages: SP metadata, the where-are-you-from list, the assertion consumer,
single logout, the sign-out page, and a patron's e-mail address."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lifeline.accounts import services
from lifeline.accounts.forms import MailForm
from lifeline.accounts.models import FederationEntity, SamlIdentityProvider
from lifeline.accounts.saml import flow, logout
from lifeline.accounts.saml.sp_metadata import sp_metadata_xml
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
    return HttpResponse(sp_metadata_xml(), content_type="application/samlmetadata+xml")


@never_cache
@require_GET
def discovery(request: HttpRequest) -> HttpResponse:
    """Where are you from: `?idp=` goes to that IdP, `?library=` to its home IdP, else the list.

    Shibboleth's names work too (`entityID=`, `target=`), so a WAYFless link made for a
    Shibboleth SP skips discovery here as well.
    """
    params = request.GET
    next_url = _safe_next(request, params.get("next", "") or params.get("target", ""))
    idps = SamlIdentityProvider.objects.active().select_related("library")
    entity = (params.get("idp", "") or params.get("entityID", ""))[:300]
    if entity:
        idp = idps.filter(entity_id=entity).first()
        if idp is None:
            known = FederationEntity.objects.filter(entity_id=entity).first()
            if known is None:
                raise Http404
            message = _(
                "%(idp)s is a member of the federation, but no library here has chosen to "
                "trust it: Lifeline serves the patrons of its own libraries only."
            ) % {"idp": known.name}
            return render(request, "accounts/saml_refused.html", {"message": message}, status=403)
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
    auth_login(request, result.user, backend="lifeline.core.backends.ModelBackend")
    if request.session.session_key is None:
        request.session.save()
    if result.idp is not None and request.session.session_key:
        logout.remember(
            request.session.session_key,
            result.idp,
            result.user,
            result.name_id,
            result.session_index,
        )
    target = _safe_next(request, result.next_url) or reverse(
        "registry:az", args=[result.patron.library.code]
    )
    if services.needs_mail(result.user):
        return HttpResponseRedirect(f"{reverse('accounts:mail')}?{urlencode({'next': target})}")
    return HttpResponseRedirect(target)


@never_cache
@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """Sign out here, and at the IdP too when it offers single logout."""
    user = request.user
    federated = user.is_authenticated and user.federated_identities.exists()
    slo, was_carsi = logout.start(request.session.session_key)
    was_carsi = was_carsi or federated
    auth_logout(request)
    if slo:
        return HttpResponseRedirect(slo)
    query = "?via=carsi" if was_carsi else ""
    return HttpResponseRedirect(reverse("accounts:signed_out") + query)


@never_cache
@require_GET
def signed_out(request: HttpRequest) -> HttpResponse:
    via = request.GET.get("via", "")
    return render(
        request,
        "accounts/signed_out.html",
        {"idp_confirmed": via == "slo", "carsi": via in {"carsi", "slo-failed"}},
    )


@never_cache
@require_GET
def sls(request: HttpRequest) -> HttpResponse:
    """Single logout service: the IdP's LogoutResponse, or its own LogoutRequest."""
    if len(request.META.get("QUERY_STRING", "")) > MAX_RESPONSE_BYTES:
        return HttpResponse(status=400)
    try:
        handled = logout.handle(
            request.META.get("QUERY_STRING", ""), {k: request.GET.get(k, "") for k in request.GET}
        )
    except logout.LogoutError as exc:
        flow.log.warning("SAML logout message refused: %s", exc)
        return HttpResponseRedirect(reverse("accounts:signed_out") + "?via=slo-failed")
    if handled.redirect:
        auth_logout(request)
        return HttpResponseRedirect(handled.redirect)
    via = "slo" if handled.idp_confirmed else "slo-failed"
    return HttpResponseRedirect(reverse("accounts:signed_out") + f"?via={via}")


@never_cache
@require_http_methods(["GET", "POST"])
def mail(request: HttpRequest) -> HttpResponse:
    """Asked once, after a CARSI sign-in whose IdP released no e-mail address."""
    if not request.user.is_authenticated or not hasattr(request.user, "patron"):
        return HttpResponseRedirect(reverse("accounts:saml_login"))
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next", ""))
    next_url = next_url or reverse("registry:az", args=[request.user.patron.library.code])
    services.mark_asked(request.user)
    form = MailForm(request.POST or None)
    sent = ""
    if request.method == "POST":
        if "skip" in request.POST:
            return HttpResponseRedirect(next_url)
        if form.is_valid():
            sent = form.cleaned_data["email"]
            services.request_mail_verification(request.user, sent, request.user.patron.library)
    return render(
        request,
        "accounts/mail.html",
        {
            "form": form,
            "next": next_url,
            "sent": sent,
            "current": services.patron_mail(request.user),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def mail_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button, POST confirms: mail scanners that open links confirm nothing."""
    record = services.pending_mail(token)
    if record is None:
        return render(request, "accounts/mail_confirm.html", {"invalid": True}, status=404)
    if request.method == "POST":
        services.confirm_mail(token)
        return render(
            request, "accounts/mail_confirm.html", {"done": True, "address": record.pending_address}
        )
    return render(request, "accounts/mail_confirm.html", {"address": record.pending_address})
