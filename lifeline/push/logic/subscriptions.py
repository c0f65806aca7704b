"""Subscriptions: double opt-in, per-topic, one-click unsubscribe (RFC 8058).

Tokens are Django signatures (HMAC-SHA256 under SECRET_KEY) with a salt per purpose, so a
confirmation token cannot unsubscribe and neither can be made without the key. An unsubscribe
token does not expire: a link in a year-old message must still work.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from django.conf import settings
from django.core import signing
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from lifeline.core import notify, ratelimit
from lifeline.core.models import Library
from lifeline.push.choices import Topic
from lifeline.push.models import Subscriber

CONFIRM_SALT = "lifeline.push.confirm"
SUBSCRIBER_SALT = "lifeline.push.subscriber"
CONFIRM_MAX_AGE = 7 * 24 * 3600
# Confirmation mails one address may be sent per hour: the form must not become a way to
# flood a stranger's mailbox (the per-IP form limit of core/ratelimit.py comes first).
CONFIRMS_PER_HOUR = 3


class SubscriptionError(ValueError):
    """A refused subscription, with a message for the person who tried."""


def normalise(email: str) -> str:
    return email.strip().lower()


def digest(email: str) -> str:
    """A keyed digest: finds an address again without storing it in clear."""
    key = f"push-subscriber:{settings.FIELD_ENCRYPTION_KEY}".encode()
    return hmac.new(key, normalise(email).encode(), hashlib.sha256).hexdigest()


def _address_tags(email: str) -> list[str]:
    """What binds a confirmation token to its address. Keyed on the signing keys (the current
    one first, then SECRET_KEY_FALLBACKS, as the token's own signature is), not on the field
    key: a link mailed before `lifeline rotate-keys` must still confirm afterwards."""
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [
        salted_hmac(CONFIRM_SALT, normalise(email), secret=k, algorithm="sha256").hexdigest()[:16]
        for k in keys
    ]


def _bound(sub: Subscriber, tag: object) -> bool:
    # The digest prefix is what tokens carried before the tag; they stay good until they expire.
    return isinstance(tag, str) and (tag in _address_tags(sub.email) or tag == sub.digest[:16])


def confirm_token(sub: Subscriber) -> str:
    return signing.dumps({"s": sub.pk, "d": _address_tags(sub.email)[0]}, salt=CONFIRM_SALT)


def subscriber_token(sub_pk: int) -> str:
    """Unsubscribe and open-tracking token of one subscriber (no expiry)."""
    return signing.Signer(salt=SUBSCRIBER_SALT).sign(str(sub_pk))


def subscriber_from_token(token: str) -> Subscriber | None:
    try:
        value = signing.Signer(salt=SUBSCRIBER_SALT).unsign(token[:200])
    except signing.BadSignature:
        return None
    return Subscriber.objects.filter(pk=int(value)).first() if value.isdigit() else None


def unsubscribe_url(sub_pk: int) -> str:
    return settings.SITE_URL + reverse("push:unsubscribe", args=[subscriber_token(sub_pk)])


def subscribe(
    library: Library,
    email: str,
    topics: list[str],
    *,
    language: str = "zh-hans",
    now: dt.datetime | None = None,
) -> Subscriber:
    """Record the wish and send the confirmation e-mail; nothing is sent to the address until
    its owner follows the link. Subscribing again changes the topics (after confirming)."""
    now = now or timezone.now()
    email = normalise(email)
    try:
        validate_email(email)
    except Exception as exc:
        raise SubscriptionError(_("Enter a valid e-mail address.")) from exc
    if any(c in email for c in "\r\n\0,;"):
        raise SubscriptionError(_("Enter a valid e-mail address."))
    chosen = sorted({t for t in topics if t in Topic.values})
    if not chosen:
        raise SubscriptionError(_("Choose at least one topic."))
    key = digest(email)
    if ratelimit.hit(f"push-confirm:{library.pk}:{key}", CONFIRMS_PER_HOUR, 3600):
        raise SubscriptionError(
            _("A confirmation was sent to this address a moment ago. Please check your mailbox.")
        )
    with transaction.atomic():
        sub = Subscriber.objects.select_for_update().filter(library=library, digest=key).first()
        if sub is None:
            try:
                with transaction.atomic():
                    sub = Subscriber.objects.create(
                        library=library,
                        email=email,
                        digest=key,
                        topics="",
                        language=language,
                        created_at=now,
                    )
            except IntegrityError:
                sub = Subscriber.objects.get(library=library, digest=key)
        # The topics wait in the signed token until confirmed: a stranger typing someone's
        # address cannot change what that person receives.
        token = signing.dumps(
            {"s": sub.pk, "d": _address_tags(email)[0], "t": chosen, "l": language[:8]},
            salt=CONFIRM_SALT,
        )
        link = settings.SITE_URL + reverse("push:confirm", args=[token])
        with translation.override(language):
            subject = _("Confirm your subscription to %(library)s announcements") % {
                "library": library
            }
            body = _(
                "Someone (we hope you) asked to receive announcements of %(library)s at this "
                "address: %(topics)s.\n\nTo confirm, open:\n%(link)s\n\nIf it was not you, "
                "ignore this message: nothing will be sent."
            ) % {
                "library": library,
                "topics": ", ".join(str(Topic(t).label) for t in chosen),
                "link": link,
            }
        notify.notify_email(
            library,
            [email],
            subject,
            body,
            kind="push.confirm",
            headers={"Auto-Submitted": "auto-generated"},
        )
    return sub


def confirm(token: str, *, now: dt.datetime | None = None) -> Subscriber | None:
    now = now or timezone.now()
    try:
        data = signing.loads(token[:1000], salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("s"), int):
        return None
    sub = Subscriber.objects.filter(pk=data["s"]).first()
    if sub is None or not _bound(sub, data.get("d")):
        return None
    topics = sorted({t for t in data.get("t", []) if t in Topic.values})
    sub.topics = "," + ",".join(topics) + "," if topics else ""
    sub.language = str(data.get("l") or sub.language)[:8]
    sub.confirmed_at = sub.confirmed_at or now
    sub.unsubscribed_at = None
    sub.save(update_fields=["topics", "language", "confirmed_at", "unsubscribed_at"])
    return sub


def unsubscribe(sub: Subscriber, *, now: dt.datetime | None = None) -> None:
    if sub.unsubscribed_at is None:
        sub.unsubscribed_at = now or timezone.now()
        sub.save(update_fields=["unsubscribed_at"])


def audience(library: Library, topic: str) -> object:
    """Confirmed, still-subscribed addresses of a topic, in key order (the run's cursor)."""
    return Subscriber.objects.filter(
        library=library,
        confirmed_at__isnull=False,
        unsubscribed_at__isnull=True,
        topics__contains=f",{topic},",
    ).order_by("pk")


def redigest() -> int:
    """Recompute every subscriber's digest under the current field key (after `lifeline
    rotate-keys`, which calls this through core.fields.keys_rotated). Without it an address
    would no longer be found again and could subscribe a second time. Two rows that turn out
    to hold one address (one subscribed after the key changed, before this ran) become one:
    the older row keeps the union of topics and the earlier confirmation. Returns rows changed."""
    changed = 0
    with transaction.atomic():
        for sub in Subscriber.objects.select_for_update().order_by("created_at", "pk"):
            if sub.email is None:
                continue  # a value no key opens: rotate-keys reports it
            key = digest(sub.email)
            if key == sub.digest:
                continue
            twin = Subscriber.objects.filter(library_id=sub.library_id, digest=key).first()
            if twin is not None:
                keep, drop = (sub, twin) if sub.created_at <= twin.created_at else (twin, sub)
                topics = {t for t in f"{keep.topics},{drop.topics}".split(",") if t}
                keep.topics = "," + ",".join(sorted(topics)) + "," if topics else ""
                firsts = [d for d in (keep.confirmed_at, drop.confirmed_at) if d]
                keep.confirmed_at = min(firsts) if firsts else None
                if drop.unsubscribed_at is None or keep.unsubscribed_at is None:
                    keep.unsubscribed_at = None
                drop.delete()
                keep.digest = key
                keep.save(update_fields=["topics", "confirmed_at", "unsubscribed_at", "digest"])
            else:
                Subscriber.objects.filter(pk=sub.pk).update(digest=key)
            changed += 1
    return changed
