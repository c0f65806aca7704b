import os
from typing import Any

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lifeline.settings")
application: Any = get_wsgi_application()

# Refuse to serve with DEBUG off and a default or short key (issue 21; core/checks.py).
from lifeline.core.checks import refuse_weak_secrets  # noqa: E402

refuse_weak_secrets()

# Import every URL module (and what the views import: SAML's schemas, the pinyin tables) now, at
# the worker's start, not in its first request: that cost seconds of CPU per worker, paid by the
# first visitors after each (re)start; on the 2-core bench it fell inside the measured minute.
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018

# The knowledge base's word segmenter (jieba's dictionary, the pinyin syllables): seconds of
# CPU, holding the GIL, in the first request that searched (every chat page offers answers).
from django.apps import apps  # noqa: E402

if apps.is_installed("lifeline.knowledge"):
    from lifeline.knowledge.text import warm

    warm()

# The quiz's htmx answers are taken before the middleware (issue 14: 10,000 patrons at once);
# everything else, and whatever that path does not take, is Django's (outreach/lean.py).
from lifeline.outreach import lean  # noqa: E402

application = lean.wrap(application)

# Everything loaded above lives as long as the worker: some 480,000 objects the cyclic collector
# tracks (jieba's dictionary, URL patterns, schemas). Each full collection walked them all,
# 150-450 ms with the GIL held: a stall for every request in the worker, and the p99 of the
# busiest pages (issue 12). Frozen, a full collection walks only what requests made.
import gc  # noqa: E402

gc.collect()
gc.freeze()
