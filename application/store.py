"""The event store: one eventsourcing Application whose log every projection follows."""

from collections.abc import Iterator, Sequence
from typing import Any, ClassVar, NamedTuple, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, StoredEvent

from application.errors import NotFound

__all__ = ["EventStore", "IntegrityError", "Latest", "Recorded", "Undecodable", "decoded"]

A = TypeVar("A")


class Latest(NamedTuple):
    version: int
    account_id: UUID | None  # the account named by the aggregate's first event


class Recorded(NamedTuple):
    position: int  # its notification id: the order of the log
    event: Any  # the domain event, decoded (and upcast) by the store's mapper


class Undecodable(NamedTuple):
    """In a stream of the whole log, in place of a stored event the mapper cannot decode (a
    damaged state, a topic no code defines any more): what it holds, and why."""

    originator_id: UUID | str
    originator_version: int
    topic: str
    state: bytes
    error: str


def decoded(mapper: Any, stored: StoredEvent) -> Any:
    """The domain event `mapper` decodes (and upcasts) from `stored`, or an `Undecodable`
    saying why it cannot."""
    try:
        return mapper.to_domain_event(stored)
    except Exception as error:
        why = f"{type(error).__name__}: {error}"
        return Undecodable(
            stored.originator_id, stored.originator_version, stored.topic, stored.state, why
        )


class EventStore(Application):
    name = "Herald"  # its PostgreSQL table is herald_events
    env: ClassVar[dict[str, str]] = {"COMPRESSOR_TOPIC": ""}

    def get(self, kind: type[A], aggregate_id: UUID | None, name: str = "") -> A:
        """The aggregate of this type with this id; NotFound ("<name> not found") when there
        is none or it is of another type. A database failure is raised as it is."""
        aggregate = self.find(kind, aggregate_id)
        if aggregate is None:
            raise NotFound(f"{name or kind.__name__.lower()} not found")
        return aggregate

    def find(self, kind: type[A], aggregate_id: UUID | None) -> A | None:
        """The aggregate of this type with this id, or None when there is none or it is of
        another type. A database failure is raised as it is, never taken for "none"."""
        if aggregate_id is None:
            return None
        try:
            aggregate: object = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, kind) else None

    def record(self, *aggregates: Any) -> int:
        """Save the aggregates' new events (or events) in one transaction; the log position
        reached."""
        recordings: Sequence[Any] = self.save(*aggregates)
        return max((r.notification.id for r in recordings), default=0)

    def latest_versions(self, ids: Sequence[UUID], topic_suffix: str) -> dict[UUID, Latest]:
        """The current version and the owning account of each aggregate whose first event's
        topic ends with `topic_suffix` (e.g. ":Message.Created"). One by one here, as the
        in-memory store of unit tests does it; in one query on PostgreSQL
        (interfaces.event_store)."""
        versions = {}
        for aggregate_id in ids:
            try:
                aggregate: Any = self.repository.get(aggregate_id)
            except AggregateNotFoundError:
                continue
            if f":{type(aggregate).__qualname__}.Created".endswith(topic_suffix):
                versions[aggregate_id] = Latest(
                    aggregate.version, getattr(aggregate, "account_id", None)
                )
        return versions

    def events_of(
        self, ids: Sequence[UUID], after: int = 0, limit: int | None = None
    ) -> list[Recorded]:
        """Every event of these aggregates after log position `after`, in log order (at most
        `limit`). Here by reading the log through, as the in-memory store of unit tests
        allows; on PostgreSQL by their ids, in one query on the primary key
        (interfaces.event_store)."""
        wanted, start = set(ids), after
        found: list[Recorded] = []
        while limit is None or len(found) < limit:
            page = self.recorder.select_notifications(start, 1000, inclusive_of_start=False)
            if not page:
                break
            found += [self.recorded(n.id, n) for n in page if n.originator_id in wanted]
            start = page[-1].id
        return found[:limit]

    def recorded(self, position: int, stored: StoredEvent) -> Recorded:
        return Recorded(position, self.mapper.to_domain_event(stored))

    def streamed(self, position: int, stored: StoredEvent) -> Recorded:
        """`recorded`, or an `Undecodable` in place of the event: one damaged event must
        not end a stream of the whole log (an export) before everything after it."""
        return Recorded(position, decoded(self.mapper, stored))

    def last_position(self) -> int:
        return self.recorder.max_notification_id() or 0  # type: ignore[attr-defined]

    def stream(self, account_id: UUID | None = None, batch: int = 1000) -> Iterator[Recorded]:
        """Every event in log order, or every event of the aggregates an account owns (the
        account itself, and those whose first event names it as `account_id`). Page by
        page here; through a server-side cursor on PostgreSQL (interfaces.event_store)."""
        owned: set[UUID] = set()
        start = 0
        while page := self.recorder.select_notifications(start, batch, inclusive_of_start=False):
            for notification in page:
                recorded = self.streamed(notification.id, notification)
                event = recorded.event
                if account_id is not None:
                    if event.originator_version == 1 and account_id in (
                        event.originator_id,
                        getattr(event, "account_id", None),
                    ):
                        owned.add(event.originator_id)
                    if event.originator_id not in owned:
                        continue
                yield recorded
            start = page[-1].id
