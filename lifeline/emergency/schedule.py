"""Periodic jobs of the emergency app: overdue tasks are noticed within five minutes."""

from __future__ import annotations

import datetime as dt

from lifeline.core.schedule import Periodic
from lifeline.emergency.tasks import mark_overdue_tasks

JOBS = [Periodic("emergency.overdue", dt.timedelta(minutes=5), mark_overdue_tasks)]
