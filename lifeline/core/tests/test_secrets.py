"""Issue 21, finding 2: production mode with the public default key; the field key and the
log-user key derived from it. Now: generated keys for the demo, a check that refuses to start,
a field key of its own with rotation, and a log-user key of its own."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection

from lifeline.core import keyfiles
from lifeline.core.checks import check_secrets, refuse_weak_secrets

GOOD = "k" * 10 + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0U1v2W3x4Y5z6"
GOOD_FIELD = "f" * 10 + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2H1g0F9e8D7c6B5a4"
GOOD_LOG = "l" * 10 + "Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8L9z0X1c2V3b4N5m6"


@pytest.fixture
def production(settings: Any) -> Any:
    settings.DEBUG = False
    settings.TESTING = False
    settings.SECRET_KEY = GOOD
    settings.FIELD_ENCRYPTION_KEY = GOOD_FIELD
    settings.LOG_USER_KEY = GOOD_LOG
    settings.SIGNING_KEY = GOOD_LOG[::-1]
    return settings


def ids(settings: Any) -> set[str]:
    return {p.id for p in check_secrets()}


def test_good_keys_pass(production: Any) -> None:
    assert ids(production) == set()
    refuse_weak_secrets()


def test_the_public_default_or_a_short_key_is_refused(production: Any) -> None:
    production.SECRET_KEY = production.INSECURE_SECRET_KEY
    assert "lifeline.E001" in ids(production)
    with pytest.raises(ImproperlyConfigured):
        refuse_weak_secrets()
    production.SECRET_KEY = "short-but-random-Zq9"
    assert "lifeline.E001" in ids(production)


def test_the_field_key_must_be_its_own(production: Any) -> None:
    production.FIELD_ENCRYPTION_KEY = production.SECRET_KEY
    assert ids(production) == {"lifeline.E002"}
    production.FIELD_ENCRYPTION_KEY = "x" * 60  # long but no entropy
    assert ids(production) == {"lifeline.E002"}
    production.FIELD_ENCRYPTION_KEY = GOOD_FIELD
    production.LOG_USER_KEY = production.SECRET_KEY
    assert ids(production) == {"lifeline.W003"}  # a warning: it does not stop the start
    production.LOG_USER_KEY = GOOD_LOG
    production.SIGNING_KEY = production.SECRET_KEY
    assert ids(production) == {"lifeline.W004"}  # rotating SECRET_KEY would void receipts


def test_debug_mode_keeps_the_development_default(settings: Any) -> None:
    settings.DEBUG = True
    settings.TESTING = False
    settings.SECRET_KEY = settings.INSECURE_SECRET_KEY
    assert check_secrets() == []


def test_the_wsgi_application_refuses_to_start_with_the_default_key(tmp_path: Path) -> None:
    """The attack as found: production mode (DEBUG off) with no key given."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("LIFELINE_") and k != "DJANGO_SETTINGS_MODULE"
    }
    env |= {"LIFELINE_DATA_DIR": str(tmp_path), "LIFELINE_DEBUG": "0"}
    run = subprocess.run(
        [sys.executable, "-c", "import lifeline.wsgi"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode != 0
    assert "ImproperlyConfigured" in run.stderr and "SECRET_KEY" in run.stderr
    keys = keyfiles.ensure(tmp_path / "keys")
    env |= {
        "LIFELINE_SECRET_KEY_FILE": str(keys["secret_key"]),
        "LIFELINE_FIELD_KEY_FILE": str(keys["field_key"]),
        "LIFELINE_LOG_USER_KEY_FILE": str(keys["log_user_key"]),
    }
    run = subprocess.run(
        [sys.executable, "-c", "import gc, lifeline.wsgi; print(gc.get_freeze_count())"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    # what the worker loaded at its start is out of the cyclic collector's full collections
    assert int(run.stdout.split()[-1]) > 100_000


def test_keyfiles_are_made_once_and_private(tmp_path: Path) -> None:
    first = keyfiles.ensure(tmp_path / "keys")
    texts = {name: path.read_text() for name, path in first.items()}
    assert len(set(texts.values())) == 4 and all(len(t.strip()) >= 60 for t in texts.values())
    for path in first.values():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    second = keyfiles.ensure(tmp_path / "keys")
    assert {name: path.read_text() for name, path in second.items()} == texts


def raw_api_key(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key FROM analytics_sushicredential WHERE id = %s", [pk])
        return str(cursor.fetchone()[0])


@pytest.mark.django_db
def test_rotate_keys_re_encrypts_stored_secrets(library_a: Any, settings: Any) -> None:
    from lifeline.analytics.models import SushiCredential
    from lifeline.registry.models import AccessRoute, Resource

    settings.FIELD_ENCRYPTION_KEY = GOOD
    settings.FIELD_ENCRYPTION_OLD_KEYS = []
    cred = SushiCredential.objects.create(
        library=library_a,
        name="v",
        base_url="https://s.example.org/",
        customer_id="c",
        api_key="sushi-secret",
    )
    resource = Resource.objects.create(library=library_a, key="r", name="R")
    route = AccessRoute.objects.create(resource=resource, url="https://r.example.org/")
    before = raw_api_key(cred.pk)
    # A new key: the old one is still read until the rotation...
    settings.FIELD_ENCRYPTION_KEY = GOOD_FIELD
    settings.FIELD_ENCRYPTION_OLD_KEYS = [GOOD]
    assert SushiCredential.objects.get(pk=cred.pk).api_key == "sushi-secret"
    call_command("rotate_keys", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert raw_api_key(cred.pk) != before
    # ...after which the old key can go.
    settings.FIELD_ENCRYPTION_OLD_KEYS = []
    assert SushiCredential.objects.get(pk=cred.pk).api_key == "sushi-secret"
    assert AccessRoute.objects.filter(pk=route.pk).exists()
    # A key nobody kept: reported, nothing overwritten.
    settings.FIELD_ENCRYPTION_KEY = GOOD_LOG
    kept = raw_api_key(cred.pk)
    with pytest.raises(CommandError):
        call_command("rotate_keys", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert raw_api_key(cred.pk) == kept


def test_log_pseudonyms_follow_their_own_key(settings: Any) -> None:
    from lifeline.analytics.logs import user_key

    settings.LOG_USER_KEY = GOOD_LOG
    key = user_key()
    settings.SECRET_KEY = GOOD  # rotating SECRET_KEY keeps the pseudonyms
    assert user_key() == key
    settings.LOG_USER_KEY = GOOD_FIELD
    assert user_key() != key


def test_a_signing_key_added_later_continues_the_secret_key(tmp_path: Path) -> None:
    """A key directory made before the signing key existed: receipts were signed from
    SECRET_KEY, so the new signing key takes its value and they keep verifying."""
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "secret_key").write_text("the-old-secret-key-of-an-earlier-install-0123456789\n")
    made = keyfiles.ensure(keys)
    assert made["signing_key"].read_text().strip() == (
        "the-old-secret-key-of-an-earlier-install-0123456789"
    )
