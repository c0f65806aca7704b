"""Periodic jobs of the reference desk: forgetting WeCom nonces older than the replay window."""

import datetime as dt

from lifeline.core.schedule import Periodic
from lifeline.reference.tasks import forget_wecom_nonces

JOBS = [Periodic("reference.forget_nonces", dt.timedelta(minutes=30), forget_wecom_nonces)]
