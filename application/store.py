"""The event store: one eventsourcing Application whose log every projection follows."""

from collections.abc import Sequence
from typing import Any, ClassVar, NamedTuple, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from application.errors import NotFound

__all__ = ["EventStore", "IntegrityError", "Latest"]

A = TypeVar("A")


class Latest(NamedTuple):
    version: int
    account_id: UUID | None  # the account named by the aggregate's first event


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
