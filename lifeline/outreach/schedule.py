"""Periodic jobs of outreach: reminders a day before each session; scoring papers out of time."""

import datetime as dt

from lifeline.core.schedule import Periodic
from lifeline.outreach.tasks import (
    close_expired_attempts,
    mark_no_shows,
    send_conversation_reminders,
    send_reminders,
)

JOBS = [
    Periodic("outreach.reminders", dt.timedelta(minutes=15), send_reminders),
    Periodic("outreach.close_attempts", dt.timedelta(minutes=5), close_expired_attempts),
    Periodic(
        "outreach.conversation_reminders", dt.timedelta(minutes=15), send_conversation_reminders
    ),
    Periodic("outreach.no_shows", dt.timedelta(minutes=5), mark_no_shows),
]
