"""The event store on PostgreSQL: what the use cases ask of it, in one query where the
generic one loads aggregate by aggregate."""

from collections.abc import Sequence
from uuid import UUID

from psycopg.sql import SQL, Identifier

from application.store import EventStore, Latest


class PostgresEventStore(EventStore):
    name = EventStore.name  # the same application, the same table (herald_events)

    def latest_versions(self, ids: Sequence[UUID], topic_suffix: str) -> dict[UUID, Latest]:
        """The current version and the owning account of each aggregate whose first event's
        topic ends with `topic_suffix` (e.g. ":Message.Created"), in one query."""
        datastore = getattr(self.recorder, "datastore", None)
        if datastore is None:  # not on PostgreSQL after all
            return super().latest_versions(ids, topic_suffix)
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
