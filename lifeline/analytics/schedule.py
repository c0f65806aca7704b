"""Periodic jobs of the analytics app (see lifeline/core/schedule.py)."""

from __future__ import annotations

import datetime as dt

from lifeline.analytics.tasks import harvest_due
from lifeline.core.schedule import Periodic

# Daily rather than monthly: vendors publish last month's usage on different days (COUNTER
# allows until the 28th), and queued or rate-limited harvests come due again in between.
# A report already fetched for a month is not asked for twice.
JOBS = [Periodic("analytics.sushi_harvest", dt.timedelta(days=1), harvest_due)]
