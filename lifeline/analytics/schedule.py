"""Periodic jobs of the analytics app (see lifeline/core/schedule.py)."""

from __future__ import annotations

import datetime as dt

from lifeline.analytics.tasks import harvest_due, signal_usage_drops
from lifeline.core.schedule import Periodic

# Daily rather than monthly: vendors publish last month's usage on different days (COUNTER
# allows until the 28th), and queued or rate-limited harvests come due again in between.
# A report already fetched for a month is not asked for twice.
JOBS = [
    Periodic("analytics.sushi_harvest", dt.timedelta(days=1), harvest_due),
    # Yesterday's use against the usual, once a day (after the night's log import).
    Periodic("analytics.usage_drop", dt.timedelta(days=1), signal_usage_drops),
]
