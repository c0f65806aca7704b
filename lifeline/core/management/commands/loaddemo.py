from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from lifeline.core.demo.loader import load_demo


class Command(BaseCommand):
    help = (
        "Load or refresh the demo library (东北林业大学图书馆, modelled on the 2020 account). "
        "Safe to re-run."
    )

    def handle(self, *args: Any, **opts: Any) -> None:
        result = load_demo()
        lib = result["library"]
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo library “{lib.name}” ({lib.code}): {result['resources']} resources."
            )
        )
        if result["apps"]:
            self.stdout.write(f"Demo data of: {', '.join(result['apps'])}")
        self.stdout.write(
            "Access probes of the demo's vendor routes are off: switch them on per route in the "
            "admin (Access health › probe settings) on a machine that may call those hosts."
        )
        if getattr(settings, "DEMO_MODE", False):
            self.stdout.write(
                f"Demo mode: break and mend routes on the stand-in vendor site at "
                f"{settings.SITE_URL}/status/{lib.code}/staff/demo-vendor/ (vendors' e-mail: "
                f"{settings.SITE_URL}/status/{lib.code}/staff/mailbox/)."
            )
        self.stdout.write("")
        self.stdout.write(f"  Open      {settings.SITE_URL}/")
        self.stdout.write(
            f"  Admin     {settings.SITE_URL}/admin/   user: admin   password: {result['password']}"
        )
        self.stdout.write(
            f"  Staff     {', '.join(result['users'][1:-3])} (same password; each holds one role)"
        )
        self.stdout.write("  Patrons   student, teacher (same password)")
        self.stdout.write("")
