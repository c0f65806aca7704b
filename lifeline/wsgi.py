import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lifeline.settings")
application = get_wsgi_application()

# Refuse to serve with DEBUG off and a default or short key (issue 21; core/checks.py).
from lifeline.core.checks import refuse_weak_secrets  # noqa: E402

refuse_weak_secrets()
