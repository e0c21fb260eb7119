"""Export: every event of the log (or of one account) as JSON Lines, filtered by the time
each was recorded, one line at a time however long the log."""

from collections.abc import Iterator
from datetime import datetime
from typing import Protocol
from uuid import UUID

import msgspec
from eventsourcing.utils import get_topic

from application.audit import event_facts
from application.store import Recorded


class EventLog(Protocol):
    def stream(self, account_id: UUID | None = None) -> Iterator[Recorded]:
        """Every event (or every event of the account's aggregates), in log order."""
        ...

    def last_position(self) -> int: ...


class ExportedEvent(msgspec.Struct):
    position: int
    originator_id: UUID
    version: int
    topic: str
    time: datetime  # when it was recorded
    state: dict  # type: ignore[type-arg]  # what it records, decoded (and upcast)


def export_lines(
    log: EventLog,
    account_id: UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Iterator[tuple[int, bytes]]:
    """(position, JSON line) for each event recorded in [since, until], in log order."""
    encoder = msgspec.json.Encoder()
    for position, event in log.stream(account_id):
        recorded_at = event.timestamp
        if (since is not None and recorded_at < since) or (
            until is not None and recorded_at > until
        ):
            continue
        line = ExportedEvent(
            position=position,
            originator_id=event.originator_id,
            version=event.originator_version,
            topic=get_topic(type(event)),
            time=recorded_at,
            state=event_facts(event),
        )
        yield position, encoder.encode(line) + b"\n"
