"""`lifeline worker` supervises the SMTP gateway only where a port is configured."""

from __future__ import annotations

from typing import Any

from lifeline import cli


def test_mail_gateway_runs_under_the_worker_when_configured(settings: Any) -> None:
    settings.MAIL_GATEWAY_PORT = 0
    assert not any(argv[0] == "mail_gateway" for argv in cli.worker_commands())
    settings.MAIL_GATEWAY_PORT = 2526
    settings.MAIL_GATEWAY_HOST = "0.0.0.0"  # noqa: S104 - the relay's side of the machine
    commands = cli.worker_commands()
    assert ["mail_gateway", "--host", "0.0.0.0", "--port", "2526"] in commands  # noqa: S104
    assert commands[0] == cli.task_worker_command()  # the task worker still comes first
