import datetime as dt

from lifeline.core.schedule import Periodic
from lifeline.push.tasks import push_tick

JOBS = [Periodic("push.tick", every=dt.timedelta(minutes=1), task=push_tick)]
