"""The event store: one eventsourcing Application whose log every projection follows."""

from collections.abc import Sequence
from typing import Any, ClassVar

from eventsourcing.application import Application
from eventsourcing.domain import MutableOrImmutableAggregate
from eventsourcing.persistence import IntegrityError

__all__ = ["EventStore", "IntegrityError"]


class EventStore(Application):
    name = "Herald"  # its PostgreSQL table is herald_events
    env: ClassVar[dict[str, str]] = {"COMPRESSOR_TOPIC": ""}

    def record(self, *aggregates: MutableOrImmutableAggregate[Any]) -> int:
        """Save the aggregates' new events in one transaction; the log position reached."""
        recordings: Sequence[Any] = self.save(*aggregates)
        return max((r.notification.id for r in recordings), default=0)
