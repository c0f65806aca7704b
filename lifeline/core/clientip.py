"""The client's address, the one way (issue 21, finding 8).

Behind the documented reverse proxy every request comes from the proxy's address; lock-outs and
the fault-report rate limit then counted everyone together. django-axes reads the address
through django-ipware, configured in settings (LIFELINE_PROXY_COUNT); everything else that
needs the address asks here, so the lock-out and the rate limits agree on who is who.
"""

from __future__ import annotations

from axes.helpers import get_client_ip_address
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    return get_client_ip_address(request) or None
