"""The event store: one eventsourcing Application whose log every projection follows."""

from collections.abc import Sequence
from typing import Any, ClassVar, NamedTuple, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError
from psycopg.sql import SQL, Identifier

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
        topic ends with `topic_suffix` (e.g. ":Message.Created"), in one query."""
        datastore = getattr(self.recorder, "datastore", None)
        if datastore is None:  # the in-memory store of unit tests
            return self._latest_versions_one_by_one(ids, topic_suffix)
        query = SQL(
            "SELECT originator_id, max(originator_version) AS version,"
            " (array_agg(state) FILTER (WHERE originator_version = 1))[1] AS created"
            " FROM {}.{} WHERE originator_id = ANY(%s) GROUP BY originator_id"
            " HAVING bool_or(originator_version = 1 AND topic LIKE %s)"
        ).format(Identifier(datastore.schema), Identifier(self.recorder.events_table_name))  # type: ignore[attr-defined]
        with datastore.get_connection() as conn, conn.cursor() as cur:
            cur.execute(query, (list(ids), "%" + topic_suffix))
            rows = cur.fetchall()
        return {
            row["originator_id"]: Latest(row["version"], self._owner(bytes(row["created"])))
            for row in rows
        }

    def _owner(self, created_state: bytes) -> UUID | None:
        """The `account_id` a first event names, decoded as the mapper would decode it."""
        mapper = self.mapper
        if mapper.cipher:
            created_state = mapper.cipher.decrypt(created_state)
        if mapper.compressor:
            created_state = mapper.compressor.decompress(created_state)
        owner = mapper.transcoder.decode(created_state).get("account_id")
        return owner if isinstance(owner, UUID) else None

    def _latest_versions_one_by_one(
        self, ids: Sequence[UUID], topic_suffix: str
    ) -> dict[UUID, Latest]:
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
