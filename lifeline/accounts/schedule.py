from datetime import timedelta

from lifeline.accounts.tasks import purge_saml_state_task
from lifeline.core.schedule import Periodic

JOBS = [Periodic("accounts.purge_saml_state", every=timedelta(hours=1), task=purge_saml_state_task)]
