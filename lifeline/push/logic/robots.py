"""Group robots (WeCom/DingTalk/Feishu webhooks) as staff manage them: the webhook address is
the robot's only credential (its `key`/`access_token`/hook id), so it is never shown back in
full, and every address is checked by core.outbound's SSRF guard when saved and again at every
send (notify sends through outbound.fetch)."""

from __future__ import annotations

import httpx
from django.utils.translation import gettext as _

from lifeline.core import notify, ratelimit
from lifeline.core.choices import NotificationStatus
from lifeline.core.models import Notification
from lifeline.push.models import Robot

# Test posts per robot per hour: a test is a real message to a real group.
TESTS_PER_HOUR = 6
SHOWN = 4  # characters of the secret part left visible


def masked(url: str) -> str:
    """`https://qyapi.weixin.qq.com/…a1b2`: the host (to tell robots apart) and the last few
    characters; the path and query, which carry the credential, are hidden."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return "…"
    secret = f"{parsed.raw_path.decode('ascii', 'replace')}"
    tail = secret[-SHOWN:] if len(secret) > 3 * SHOWN else ""
    return f"{parsed.scheme}://{parsed.host}/…{tail}"


def test_send(robot: Robot, who: str) -> tuple[bool, str]:
    """Post a short test message to the robot now (not through the worker); (sent, what
    happened). A failed test is not retried by the outbox."""
    if ratelimit.hit(f"push-robot-test:{robot.pk}", TESTS_PER_HOUR, 3600):
        return False, _("Too many test messages to this robot; try again later.")
    note = notify.notify_webhook(
        robot.library,
        robot.url,
        title=_("Test message from %(library)s") % {"library": robot.library},
        text=_("This robot will receive %(library)s announcements. Sent by %(who)s.")
        % {"library": robot.library, "who": who},
        fmt=robot.fmt,
        kind="push.robot_test",
    )
    if notify.deliver(note.pk):
        return True, _("The test message was sent.")
    row = Notification.objects.get(pk=note.pk)
    Notification.objects.filter(pk=note.pk).update(status=NotificationStatus.FAILED)
    # The error may quote the address (a connection error names it): never the credential.
    error = row.last_error.replace(robot.url, masked(robot.url))
    return False, _("The test message failed: %(error)s") % {"error": error[:300]}
