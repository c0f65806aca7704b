"""Periodic jobs of thesis deposit: deposit the full text of theses whose embargo has ended."""

import datetime as dt

from lifeline.core.schedule import Periodic
from lifeline.theses.tasks import deposit_released

JOBS = [Periodic("theses.deposit_released", dt.timedelta(hours=6), deposit_released)]
