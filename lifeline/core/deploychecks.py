"""Deployment checks: what to fix before a library goes live.

Registered with Django's check framework under the `deploy` flag, so `lifeline check` (which
runs `check --deploy`) reports them next to Django's own (DEBUG on, a weak secret key, no HTTPS
settings ...). Each says what is wrong and which variable sets it right.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1", "testserver"}


def _loopback(host: str) -> bool:
    host = host.strip().lstrip(".").strip("[]")
    if host in LOOPBACK_HOSTS or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@register(Tags.security, deploy=True)
def check_reachable(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    found: list[CheckMessage] = []
    hosts = [h for h in settings.ALLOWED_HOSTS if h]
    if not hosts or all(_loopback(h) for h in hosts):
        found.append(
            Warning(
                "ALLOWED_HOSTS names only this machine: patrons cannot reach Lifeline.",
                hint="Set LIFELINE_ALLOWED_HOSTS to the public host name(s), e.g. "
                "lifeline.lib.example.edu.cn.",
                id="lifeline.W101",
            )
        )
    site = urlsplit(settings.SITE_URL)
    if _loopback(site.hostname or ""):
        found.append(
            Warning(
                f"SITE_URL is {settings.SITE_URL}: links in e-mails and feeds point at this "
                "machine.",
                hint="Set LIFELINE_SITE_URL to the public address, e.g. https://lifeline.lib.example.edu.cn.",
                id="lifeline.W102",
            )
        )
    elif site.scheme != "https":
        found.append(
            Warning(
                "SITE_URL is not https: sign-in and CARSI need HTTPS.",
                hint="Serve Lifeline behind TLS and set LIFELINE_SITE_URL to its https:// address.",
                id="lifeline.W103",
            )
        )
    return found


@register(Tags.mail, deploy=True)
def check_mail(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    mailer = getattr(settings, "MAILERS", {}).get("default", {})
    backend = str(mailer.get("BACKEND", ""))
    if "smtp" in backend and not getattr(settings, "SMTP_CONFIGURED", True):
        return [
            Warning(
                "No SMTP server is configured: notices (incidents, vendor escalations, delivery) "
                "go to 127.0.0.1:25.",
                hint="Set LIFELINE_EMAIL_HOST (and _PORT, _USER, _PASSWORD, _TLS), and "
                "LIFELINE_EMAIL_FROM.",
                id="lifeline.W110",
            )
        ]
    if "smtp" not in backend:
        return [
            Warning(
                f"E-mail is not sent: the mailer is {backend.rsplit('.', 2)[-2]}.",
                hint="Unset LIFELINE_EMAIL_BACKEND, LIFELINE_DEMO and LIFELINE_DEBUG in production.",  # noqa: E501
                id="lifeline.W111",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_operations(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    found: list[CheckMessage] = []
    if getattr(settings, "DEMO_MODE", False):
        found.append(
            Warning(
                "Demo mode is on: the stand-in vendor site answers and e-mail stays local.",
                hint="Unset LIFELINE_DEMO.",
                id="lifeline.W120",
            )
        )
    if not (os.environ.get("LIFELINE_FIELD_KEY") or os.environ.get("LIFELINE_FIELD_KEY_FILE")):
        found.append(
            Warning(
                "Stored passwords and API keys are encrypted with the secret key: changing the "
                "secret key would make them unreadable.",
                hint="Set LIFELINE_FIELD_KEY (or _FILE) to a key of its own before storing any, "
                "and keep it with the backups' keys.",
                id="lifeline.W121",
            )
        )
    for net in getattr(settings, "METRICS_ALLOWED_NETWORKS", []):
        try:
            open_to_all = ipaddress.ip_network(net, strict=False).prefixlen == 0
        except ValueError:
            found.append(
                Error(
                    f"LIFELINE_METRICS_ALLOW holds {net!r}, which is not a network.",
                    id="lifeline.E122",
                )
            )
            continue
        if open_to_all:
            found.append(
                Warning(
                    f"/metrics answers every address ({net}).",
                    hint="List only the monitoring server's addresses in LIFELINE_METRICS_ALLOW.",
                    id="lifeline.W123",
                )
            )
    data = Path(settings.DATA_DIR)
    if not (data.is_dir() and os.access(data, os.W_OK)):
        found.append(
            Error(
                f"The data directory {data} does not exist or cannot be written.",
                hint="Create it for the user Lifeline runs as, or set LIFELINE_DATA_DIR.",
                id="lifeline.E124",
            )
        )
    engine = str(settings.DATABASES["default"]["ENGINE"])
    if "postgresql" in engine and not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        found.append(
            Warning(
                "pg_dump/pg_restore are not installed: `lifeline backup` cannot run.",
                hint="Install the PostgreSQL client tools of the server's version "
                "(Debian: postgresql-client).",
                id="lifeline.W125",
            )
        )
    return found
