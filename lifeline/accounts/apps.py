from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "lifeline.accounts"
    label = "accounts"
    verbose_name = _("Sign-in and security")

    def ready(self) -> None:
        from django.contrib import admin
        from django.contrib.auth.views import redirect_to_login
        from django.http import HttpRequest, HttpResponse

        # The admin's own login form would skip the second factor and the CARSI choice:
        # send it to ours, which has both (and the same axes throttling).
        def admin_login(request: HttpRequest, extra_context: object = None) -> HttpResponse:
            return redirect_to_login(request.GET.get("next") or "/admin/", "accounts:login")

        admin.site.login = admin_login  # type: ignore[method-assign]
