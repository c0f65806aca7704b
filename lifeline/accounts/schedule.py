from datetime import timedelta

from lifeline.accounts.tasks import purge_saml_state_task, refresh_federations_task
from lifeline.core.schedule import Periodic

JOBS = [
    Periodic("accounts.purge_saml_state", every=timedelta(hours=1), task=purge_saml_state_task),
    # Hourly look; each federation is fetched every `refresh_hours` (hourly after a failure).
    Periodic(
        "accounts.refresh_federations", every=timedelta(hours=1), task=refresh_federations_task
    ),
]
