"""Signals other apps listen to instead of reading emergency's tables.

`tasks_handed_out(sender=Event, event=..., tasks=[EventTask, ...])`: sent inside the
transaction that created (or reopened) the tasks, when an event is declared or raised. A
receiver that acts outside the database defers its work with `transaction.on_commit`.
"""

from django.dispatch import Signal

tasks_handed_out = Signal()
