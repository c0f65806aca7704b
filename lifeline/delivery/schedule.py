"""Periodic jobs of document delivery: purge expired files and strip old patron details, hourly."""

import datetime as dt

from lifeline.core.schedule import Periodic
from lifeline.delivery.tasks import purge_and_anonymise

JOBS = [Periodic("delivery.purge", dt.timedelta(hours=1), purge_and_anonymise)]
