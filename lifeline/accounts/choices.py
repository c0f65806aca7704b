"""Choice sets of the accounts app (with badge colours, see static/lifeline/lifeline.css)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SamlOutcome(models.TextChoices):
    SIGNED_IN = "signed_in", _("Signed in")
    REFUSED = "refused", _("Refused")


SAML_OUTCOME_COLOURS = {SamlOutcome.SIGNED_IN: "green", SamlOutcome.REFUSED: "red"}


class TokenState(models.TextChoices):
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")


TOKEN_STATE_COLOURS = {
    TokenState.ACTIVE: "green",
    TokenState.EXPIRED: "grey",
    TokenState.REVOKED: "red",
}
