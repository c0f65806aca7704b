from datetime import timedelta

from lifeline.core.schedule import Periodic
from lifeline.knowledge.tasks import sync_all_guides

JOBS = [Periodic("knowledge.sync_all_guides", every=timedelta(hours=24), task=sync_all_guides)]
