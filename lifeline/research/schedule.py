"""Periodic jobs of research services: SLA notices for overdue citation and novelty requests."""

import datetime as dt

from lifeline.core.schedule import Periodic
from lifeline.research.tasks import notify_overdue

JOBS = [Periodic("research.notify_overdue", dt.timedelta(minutes=30), notify_overdue)]
