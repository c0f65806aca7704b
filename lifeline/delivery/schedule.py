"""Periodic jobs of document delivery: purge expired files and strip old patron details, hourly;
send the ISO 18626 messages that wait for a peer, every minute."""

import datetime as dt

from lifeline.core.schedule import Periodic
from lifeline.delivery.tasks import purge_and_anonymise, send_due_iso_messages

JOBS = [
    Periodic("delivery.purge", dt.timedelta(hours=1), purge_and_anonymise),
    Periodic("delivery.iso18626_retry", dt.timedelta(minutes=1), send_due_iso_messages),
]
