from django.urls import URLPattern, URLResolver, path

from lifeline.accounts import saml_views, views

app_name = "accounts"
urlpatterns: list[URLPattern | URLResolver] = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/code/", views.login_otp, name="login_otp"),
    path("logout/", saml_views.sign_out, name="logout"),
    path("signed-out/", saml_views.signed_out, name="signed_out"),
    path("mail/", saml_views.mail, name="mail"),
    path("mail/confirm/<str:token>/", saml_views.mail_confirm, name="mail_confirm"),
    path("two-factor/", views.two_factor, name="two_factor"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.revoke_token, name="revoke_token"),
    path("carsi/", views.carsi_report, name="carsi_report"),
    path("saml/metadata/", saml_views.metadata, name="saml_metadata"),
    path("saml/login/", saml_views.discovery, name="saml_login"),
    path("saml/acs/", saml_views.acs, name="saml_acs"),
    path("saml/sls/", saml_views.sls, name="saml_sls"),
]
