"""The monthly report: checked daily; the outbox's dedupe key sends each month's report once."""

import datetime as dt

from lifeline.core.schedule import Periodic
from lifeline.reports.tasks import send_monthly_reports

JOBS = [Periodic("reports.monthly", dt.timedelta(hours=24), send_monthly_reports)]
