"""What other apps may hear of an emergency event, without reading emergency's tables.

Both are sent inside the transaction that declared or stood down the event, so a receiver that
queues a notice through the outbox commits with the decision or not at all. Receivers must not
raise for reasons of their own: a failure there rolls back the decision.

- `event_declared(sender=Event, event_id, library, is_drill, level, category)`
- `event_stood_down(sender=Event, event_id, library, is_drill, start, end)`: `start` and `end`
  are the event's span in local days (what the service report covers).
"""

from __future__ import annotations

from django.dispatch import Signal

event_declared = Signal()
event_stood_down = Signal()
