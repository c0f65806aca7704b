"""System checks of the installation's secrets (issue 21, finding 2).

With DEBUG off (production, and `make demo`), Lifeline refuses to start when SECRET_KEY is the
public default or short, or when the field-encryption key is missing, short, or the same as
SECRET_KEY. `lifeline/wsgi.py` and `lifeline serve` run these checks before they serve (a WSGI
server does not run Django's checks by itself), as does `lifeline check --deploy`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

MIN_LENGTH = 50
TAG = "lifeline_secrets"


def _weak(key: str) -> bool:
    return (
        len(key) < MIN_LENGTH
        or len(set(key)) < 5
        or key == getattr(settings, "INSECURE_SECRET_KEY", None)
        or key.startswith(("django-insecure", "insecure-"))
    )


# A deployment check: `lifeline check --deploy`, the WSGI start and `lifeline serve` run it;
# development commands (makemigrations, tests, a shell) are not stopped by it.
@register(TAG, Tags.security, deploy=True)
def check_secrets(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    if settings.DEBUG or getattr(settings, "TESTING", False):
        return []
    problems: list[Error | Warning] = []
    if _weak(settings.SECRET_KEY):
        problems.append(
            Error(
                "SECRET_KEY is the public default or shorter than 50 characters while DEBUG is "
                "off.",
                hint="Set LIFELINE_SECRET_KEY (or LIFELINE_SECRET_KEY_FILE) to a long random "
                "value; `python -m lifeline.core.keyfiles var/keys` makes one.",
                id="lifeline.E001",
            )
        )
    field_key = settings.FIELD_ENCRYPTION_KEY
    if field_key == settings.SECRET_KEY or _weak(field_key):
        problems.append(
            Error(
                "The field-encryption key (vendor passwords, SUSHI API keys) is not its own "
                "long random secret.",
                hint="Set LIFELINE_FIELD_KEY (or LIFELINE_FIELD_KEY_FILE); to move stored "
                "values to it, put the old key in LIFELINE_FIELD_OLD_KEYS and run "
                "`lifeline rotate-keys`.",
                id="lifeline.E002",
            )
        )
    if settings.LOG_USER_KEY == settings.SECRET_KEY or _weak(settings.LOG_USER_KEY):
        problems.append(
            Warning(
                "The key that turns log user names into pseudonyms is SECRET_KEY or weak: "
                "rotating SECRET_KEY would change every pseudonym.",
                hint="Set LIFELINE_LOG_USER_KEY (or LIFELINE_LOG_USER_KEY_FILE).",
                id="lifeline.W003",
            )
        )
    if settings.SIGNING_KEY == settings.SECRET_KEY or _weak(settings.SIGNING_KEY):
        problems.append(
            Warning(
                "The key that signs verifiable documents (thesis receipts, citation reports) is "
                "SECRET_KEY or weak: rotating SECRET_KEY would make every issued receipt fail "
                "its check.",
                hint="Set LIFELINE_SIGNING_KEY (or LIFELINE_SIGNING_KEY_FILE) to the current "
                "SECRET_KEY's value first, so receipts issued so far keep verifying; then "
                "SECRET_KEY can be rotated on its own.",
                id="lifeline.W004",
            )
        )
    return problems


def refuse_weak_secrets() -> None:
    """Raise at start-up (WSGI) when a secret check fails."""
    from django.core.checks import run_checks
    from django.core.exceptions import ImproperlyConfigured

    errors = [e for e in run_checks(tags=[TAG], include_deployment_checks=True) if e.is_serious()]
    if errors:
        raise ImproperlyConfigured(
            "Lifeline refuses to start: " + " ".join(f"{e.msg} {e.hint}" for e in errors)
        )
