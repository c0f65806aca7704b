"""The subscriber digest is keyed on the field key: after `lifeline rotate-keys` the same
address must still be found again, not subscribed a second time."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.core.management import call_command

from lifeline.core.models import Library
from lifeline.core.tests.test_secrets import GOOD, GOOD_FIELD
from lifeline.push.logic import subscriptions
from lifeline.push.models import Subscriber
from lifeline.push.tests.conftest import confirmed


@pytest.mark.django_db
def test_same_address_after_rotate_keys_is_one_subscriber(
    library_a: Library, settings: Any
) -> None:
    settings.FIELD_ENCRYPTION_KEY = GOOD
    settings.FIELD_ENCRYPTION_OLD_KEYS = []
    sub = confirmed(library_a, "wang@example.edu", topics=",guide,")
    old_digest = sub.digest
    settings.FIELD_ENCRYPTION_KEY = GOOD_FIELD
    settings.FIELD_ENCRYPTION_OLD_KEYS = [GOOD]
    call_command("rotate_keys", stdout=open(os.devnull, "w"))  # noqa: SIM115
    settings.FIELD_ENCRYPTION_OLD_KEYS = []
    sub.refresh_from_db()
    assert sub.digest != old_digest and sub.digest == subscriptions.digest("wang@example.edu")
    # The same address (other case) subscribes again: the existing row is found.
    again = subscriptions.subscribe(library_a, "Wang@Example.edu", ["epidemic"])
    assert again.pk == sub.pk
    assert Subscriber.objects.filter(library=library_a).count() == 1
    assert Subscriber.objects.get(pk=sub.pk).is_active


@pytest.mark.django_db
def test_twin_rows_made_by_a_late_rotation_become_one(library_a: Library, settings: Any) -> None:
    settings.FIELD_ENCRYPTION_KEY = GOOD
    settings.FIELD_ENCRYPTION_OLD_KEYS = []
    old = confirmed(library_a, "li@example.edu", topics=",guide,")
    # The key changed and the address subscribed again before rotate-keys ran.
    settings.FIELD_ENCRYPTION_KEY = GOOD_FIELD
    settings.FIELD_ENCRYPTION_OLD_KEYS = [GOOD]
    confirmed(library_a, "li@example.edu", topics=",epidemic,")
    assert Subscriber.objects.filter(library=library_a).count() == 2
    call_command("rotate_keys", stdout=open(os.devnull, "w"))  # noqa: SIM115
    (kept,) = Subscriber.objects.filter(library=library_a)
    assert kept.pk == old.pk and kept.topic_list == ["epidemic", "guide"] and kept.is_active


@pytest.mark.django_db
def test_a_confirmation_mailed_before_rotate_keys_still_confirms(
    library_a: Library, settings: Any
) -> None:
    settings.FIELD_ENCRYPTION_KEY = GOOD
    settings.FIELD_ENCRYPTION_OLD_KEYS = []
    sub = subscriptions.subscribe(library_a, "zhao@example.edu", ["epidemic"])
    token = subscriptions.confirm_token(sub)
    other = subscriptions.subscribe(library_a, "qian@example.edu", ["guide"])
    settings.FIELD_ENCRYPTION_KEY = GOOD_FIELD
    settings.FIELD_ENCRYPTION_OLD_KEYS = [GOOD]
    call_command("rotate_keys", stdout=open(os.devnull, "w"))  # noqa: SIM115
    settings.FIELD_ENCRYPTION_OLD_KEYS = []
    confirmed_sub = subscriptions.confirm(token)
    assert confirmed_sub is not None and confirmed_sub.pk == sub.pk and confirmed_sub.is_active
    # Still bound to its address: the token names its subscriber and no other.
    forged = subscriptions.signing.dumps(
        {"s": other.pk, "d": subscriptions._address_tags("zhao@example.edu")[0]},
        salt=subscriptions.CONFIRM_SALT,
    )
    assert subscriptions.confirm(forged) is None
