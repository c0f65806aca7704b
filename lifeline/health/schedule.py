from datetime import timedelta

from lifeline.core.schedule import Periodic
from lifeline.health.tasks import prune_evidence_task

JOBS = [Periodic("health.prune_evidence", every=timedelta(days=1), task=prune_evidence_task)]
