"""Export: every event of the log (or of one account) as JSON Lines, filtered by the time
each was recorded, one line at a time however long the log.

An event the store cannot decode is exported all the same, as what is stored (its state as
text) with why it could not be read, whatever the time filter (its time is in the state):
an auditor's copy of the log must not stop at, nor silently leave out, a damaged event."""

from collections.abc import Iterator
from datetime import datetime
from typing import NamedTuple, Protocol
from uuid import UUID

import msgspec
from eventsourcing.utils import get_topic

from application.audit import event_facts
from application.store import Recorded, Undecodable


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


class UndecodableEvent(msgspec.Struct):
    position: int
    originator_id: UUID | str
    version: int
    topic: str
    undecodable: str  # why the store could not decode it
    stored_state: str  # its stored state, as UTF-8 text (bytes that are not, replaced)


class ExportLine(NamedTuple):
    position: int
    line: bytes  # one JSON object and a newline
    undecodable: bool


def export_lines(
    log: EventLog,
    account_id: UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Iterator[ExportLine]:
    """A line for each event recorded in [since, until] (and each undecodable one), in log
    order."""
    encoder = msgspec.json.Encoder()
    for position, event in log.stream(account_id):
        if isinstance(event, Undecodable):
            damaged = UndecodableEvent(
                position=position,
                originator_id=event.originator_id,
                version=event.originator_version,
                topic=event.topic,
                undecodable=event.error,
                stored_state=event.state.decode("utf-8", errors="replace"),
            )
            yield ExportLine(position, encoder.encode(damaged) + b"\n", True)
            continue
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
        yield ExportLine(position, encoder.encode(line) + b"\n", False)
