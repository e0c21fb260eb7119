"""The event store: one eventsourcing Application whose log every projection follows."""

from collections.abc import Sequence
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError
from psycopg.sql import SQL, Identifier

__all__ = ["EventStore", "IntegrityError"]


class EventStore(Application):
    name = "Herald"  # its PostgreSQL table is herald_events
    env: ClassVar[dict[str, str]] = {"COMPRESSOR_TOPIC": ""}

    def record(self, *aggregates: Any) -> int:
        """Save the aggregates' new events (or events) in one transaction; the log position
        reached."""
        recordings: Sequence[Any] = self.save(*aggregates)
        return max((r.notification.id for r in recordings), default=0)

    def latest_versions(self, ids: Sequence[UUID], topic_suffix: str) -> dict[UUID, int]:
        """The current version of each aggregate whose first event's topic ends with
        `topic_suffix` (e.g. ":Message.Created"), in one query."""
        datastore = getattr(self.recorder, "datastore", None)
        if datastore is None:  # the in-memory store of unit tests
            return self._latest_versions_one_by_one(ids, topic_suffix)
        query = SQL(
            "SELECT originator_id, max(originator_version) AS version FROM {}.{}"
            " WHERE originator_id = ANY(%s) GROUP BY originator_id"
            " HAVING bool_or(originator_version = 1 AND topic LIKE %s)"
        ).format(Identifier(datastore.schema), Identifier(self.recorder.events_table_name))  # type: ignore[attr-defined]
        with datastore.get_connection() as conn, conn.cursor() as cur:
            cur.execute(query, (list(ids), "%" + topic_suffix))
            return {row["originator_id"]: row["version"] for row in cur.fetchall()}

    def _latest_versions_one_by_one(
        self, ids: Sequence[UUID], topic_suffix: str
    ) -> dict[UUID, int]:
        versions = {}
        for aggregate_id in ids:
            try:
                aggregate: Any = self.repository.get(aggregate_id)
            except AggregateNotFoundError:
                continue
            if f":{type(aggregate).__qualname__}.Created".endswith(topic_suffix):
                versions[aggregate_id] = aggregate.version
        return versions
