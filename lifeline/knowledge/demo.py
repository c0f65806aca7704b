"""Demo data of the knowledge base for the seed library: the 35 articles of data/articles.yaml
(VPN, CARSI, CNKI/Wanfang/VIP, the thesis receipt printed online, document delivery through
Worldlib, citation reports ...), the registry's access guides, and a few "did this solve it?"
answers. Through the app's own functions; idempotent (the demo articles are replaced)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from lifeline.core.models import Library
from lifeline.knowledge import evaluation, guides, services
from lifeline.knowledge.models import Deflection


def load(library: Library, today: dt.date) -> None:
    articles = evaluation.load_articles(library)
    guides.sync_library(library)
    Deflection.objects.filter(library=library, channel="demo").delete()
    moment = timezone.make_aware(dt.datetime.combine(today, dt.time(10)))
    for n, (key, solved) in enumerate(
        [
            ("vpn", True),
            ("carsi", True),
            ("thesis_receipt", True),
            ("docdel", False),
            ("cnki", True),
        ]
    ):
        services.record_deflection(
            library,
            "article",
            articles[key].pk,
            solved,
            channel="demo",
            now=moment - dt.timedelta(hours=n * 5),
        )
