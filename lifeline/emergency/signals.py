"""What other apps may hear of an emergency event, without reading emergency's tables.

All are sent inside the transaction that made the change, so a receiver that queues a notice
through the outbox commits with the decision or not at all; a receiver that acts outside the
database defers its work with `transaction.on_commit`. Receivers must not raise for reasons of
their own: a failure there rolls back the decision.

- `event_declared(sender=Event, event_id, library, is_drill, level, category)`
- `tasks_handed_out(sender=Event, event=..., tasks=[EventTask, ...])`: the tasks created (or
  reopened) when an event is declared or raised.
- `event_stood_down(sender=Event, event_id, library, is_drill, start, end)`: `start` and `end`
  are the event's span in local days (what the service report covers).
"""

from __future__ import annotations

from django.dispatch import Signal

event_declared = Signal()
tasks_handed_out = Signal()
event_stood_down = Signal()
