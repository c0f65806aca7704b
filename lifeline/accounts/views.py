"""Staff sign-in (password, then TOTP when enabled), the second-factor page and API tokens."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from lifeline.accounts import reports, services
from lifeline.accounts.choices import SAML_OUTCOME_COLOURS, TOKEN_STATE_COLOURS, SamlOutcome
from lifeline.accounts.forms import OtpTokenForm, TokenForm
from lifeline.accounts.models import SamlIdentityProvider
from lifeline.core.permissions import is_staff_anywhere

PENDING = "accounts_pending_otp"
PENDING_SECONDS = 300


class LoginView(auth_views.LoginView):
    """Password sign-in; a user with a confirmed TOTP device is signed in only after the code."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = False

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["has_idps"] = SamlIdentityProvider.objects.active().exists()
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Password spraying: many user names from one address, each below the per-name limit
        # (issue 21). Counted from axes' own attempts, so every worker sees the same figure.
        if services.address_locked(request):
            return render(request, settings.AXES_LOCKOUT_TEMPLATE, status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if services.confirmed_totp(user) is None:
            return super().form_valid(form)
        # Not signed in yet: only the user id waits in the (anonymous) session, for five minutes.
        self.request.session[PENDING] = {
            "user": user.pk,
            "backend": user.backend,
            "next": self.get_success_url(),
            "at": time.time(),
        }
        return redirect("accounts:login_otp")


@never_cache
@require_http_methods(["GET", "POST"])
def login_otp(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        messages.error(request, _("The sign-in took too long. Please enter your password again."))
        return redirect("accounts:login")
    user = get_object_or_404(get_user_model(), pk=pending["user"], is_active=True)
    form = OtpTokenForm(request.POST or None)
    wait = services.throttle_wait(services.confirmed_totp(user))
    if request.method == "POST" and wait is not None:
        form.is_valid()
        form.add_error(None, _too_many(wait))
        return render(request, "accounts/login_otp.html", {"form": form}, status=429)
    if request.method == "POST" and form.is_valid():
        device = services.verify_second_factor(user, form.cleaned_data["token"])
        if device is not None:
            del request.session[PENDING]
            auth_login(request, user, backend=pending["backend"])
            otp_login(request, device)
            target = pending["next"]
            if not url_has_allowed_host_and_scheme(
                target, {request.get_host()}, request.is_secure()
            ):
                target = "/"
            return HttpResponseRedirect(target)
        form.add_error(
            "token", _("That code is wrong or has expired. Wait for the next one and try again.")
        )
    return render(request, "accounts/login_otp.html", {"form": form})


def _too_many(seconds: int) -> str:
    return _("Too many attempts. Wait %(seconds)s s, then enter the current code.") % {
        "seconds": seconds
    }


def _staff_required(request: HttpRequest) -> None:
    if not is_staff_anywhere(request.user):
        raise PermissionDenied


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Enable (scan the QR code, type the first code) or disable the TOTP second factor."""
    _staff_required(request)
    user = request.user
    confirmed = services.confirmed_totp(user)
    form = OtpTokenForm(request.POST or None)
    action = request.POST.get("action", "")
    if request.method == "POST":
        if action == "start" and confirmed is None:
            services.start_totp_setup(user)
            return redirect("accounts:two_factor")
        device_in_use = confirmed if action == "disable" else services.pending_totp(user)
        if (wait := services.throttle_wait(device_in_use)) is not None:
            form.is_valid()
            form.add_error("token", _too_many(wait))
        elif form.is_valid():
            if action == "confirm" and (device := services.pending_totp(user)) is not None:
                if services.confirm_totp(device, form.cleaned_data["token"]):
                    otp_login(request, device)
                    messages.success(
                        request,
                        _(
                            "Two-factor sign-in is on. "
                            "You will be asked for a code each time you sign in."
                        ),
                    )
                    return redirect("accounts:two_factor")
                form.add_error(
                    "token",
                    _("That code does not match. Check the clock of your phone and try again."),
                )
            elif action == "disable" and confirmed is not None:
                if services.disable_totp(user, form.cleaned_data["token"]):
                    messages.success(request, _("Two-factor sign-in is off."))
                    return redirect("accounts:two_factor")
                form.add_error("token", _("That code is wrong; two-factor sign-in stays on."))
    pending = None if confirmed else services.pending_totp(user)
    return render(
        request,
        "accounts/two_factor.html",
        {
            "confirmed": confirmed,
            "pending": pending,
            "form": form,
            "qr": services.qr_svg(pending, user) if pending else "",
            "secret_b32": services.secret_b32(pending) if pending else "",
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """API tokens: issue one (shown once, on this response only), list, revoke."""
    _staff_required(request)
    form = TokenForm(request.POST or None)
    new_secret = ""
    if request.method == "POST" and form.is_valid():
        days = int(form.cleaned_data["expires_in"]) if form.cleaned_data["expires_in"] else None
        _token, new_secret = services.issue_token(request.user, form.cleaned_data["name"], days)
        form = TokenForm()
    rows = []
    for token in services.visible_tokens(request.user).order_by("-created_at")[:500]:
        state = services.token_state(token)
        rows.append({"token": token, "state": state, "colour": TOKEN_STATE_COLOURS[state]})
    return render(
        request, "accounts/tokens.html", {"form": form, "rows": rows, "new_secret": new_secret}
    )


@login_required
@require_POST
def revoke_token(request: HttpRequest, pk: int) -> HttpResponse:
    _staff_required(request)
    token = get_object_or_404(services.visible_tokens(request.user), pk=pk)
    if not services.can_revoke(request.user, token):
        raise PermissionDenied
    services.revoke_token(request.user, token)
    messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
    return redirect("accounts:tokens")


@login_required
@require_http_methods(["GET"])
def carsi_report(request: HttpRequest) -> HttpResponse:
    """CARSI sign-ins of the user's libraries: per day, refusal reasons, the latest events, XLSX."""
    _staff_required(request)
    days = {"7": 7, "90": 90}.get(request.GET.get("days", ""), 30)
    report = reports.sign_in_report(request.user, days=days)
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(
            reports.report_xlsx(report),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="carsi-sign-ins-{days}d.xlsx"'
        return response
    latest = [
        {"event": e, "colour": SAML_OUTCOME_COLOURS[SamlOutcome(e.outcome)]}
        for e in report.events.order_by("-at")[:100]
    ]
    return render(
        request,
        "accounts/carsi_report.html",
        {
            "report": report,
            "latest": latest,
            "chart": report.chart(),
            "reasons_chart": report.reasons_chart(),
        },
    )
