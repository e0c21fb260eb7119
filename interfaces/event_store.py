"""The event store on PostgreSQL: what the use cases ask of it, in one query where the
generic one loads aggregate by aggregate."""

from collections.abc import Iterator, Sequence
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from psycopg.sql import SQL, Composed, Identifier

from application.store import EventStore, Latest, Recorded

EVENT_COLUMNS = "notification_id, originator_id, originator_version, topic, state"


class PostgresEventStore(EventStore):
    name = EventStore.name  # the same application, the same table (herald_events)

    def _table(self) -> Composed | None:
        datastore = getattr(self.recorder, "datastore", None)
        if datastore is None:  # not on PostgreSQL after all
            return None
        return SQL("{}.{}").format(
            Identifier(datastore.schema),
            Identifier(self.recorder.events_table_name),  # type: ignore[attr-defined]
        )

    def events_of(
        self, ids: Sequence[UUID], after: int = 0, limit: int | None = None
    ) -> list[Recorded]:
        """Every event of these aggregates after log position `after`, in log order: one
        query, by the primary key (originator_id, originator_version), never a scan."""
        table = self._table()
        if table is None:
            return super().events_of(ids, after, limit)
        query = SQL(
            "SELECT " + EVENT_COLUMNS + " FROM {} WHERE originator_id = ANY(%s)"
            " AND notification_id > %s ORDER BY notification_id LIMIT %s"
        ).format(table)
        with self.recorder.datastore.get_connection() as conn, conn.cursor() as cur:  # type: ignore[attr-defined]
            cur.execute(query, (list(ids), after, limit))
            rows = cur.fetchall()
        return [self._recorded(row) for row in rows]

    def _stored(self, row: dict) -> StoredEvent:  # type: ignore[type-arg]
        return StoredEvent(
            row["originator_id"], row["originator_version"], row["topic"], bytes(row["state"])
        )

    def _recorded(self, row: dict) -> Recorded:  # type: ignore[type-arg]
        return self.recorded(row["notification_id"], self._stored(row))

    def last_position(self) -> int:
        return self.recorder.max_notification_id() or 0  # type: ignore[attr-defined]

    def stream(self, account_id: UUID | None = None, batch: int = 2000) -> Iterator[Recorded]:
        """Every event in log order (or every event of the aggregates an account owns),
        read through a server-side cursor: memory stays the same however long the log.

        An aggregate is the account's when it is the account, or when its first event names
        it as `account_id` (every aggregate Herald records for an account does). That first
        event is found by its stored text, then checked decoded: one that cannot be decoded
        (`Undecodable`) cannot be shown to be the account's, and its aggregate is left out."""
        table = self._table()
        assert table is not None, "streaming needs the PostgreSQL store"
        if account_id is None:
            where: SQL | Composed = SQL("")
            params: tuple[object, ...] = ()
        else:
            needle = f'"account_id":{{"_type_":"uuid_hex","_data_":"{account_id.hex}"}}'
            where = SQL(
                " WHERE originator_id IN (SELECT originator_id FROM {} WHERE"
                " originator_version = 1 AND (originator_id = %s OR position(%s IN state) > 0))"
            ).format(table)
            params = (account_id, needle.encode())
        query = SQL("SELECT " + EVENT_COLUMNS + " FROM {}{} ORDER BY notification_id").format(
            table, where
        )
        not_its: set[UUID] = set()  # named the account elsewhere than as its owner: rare
        with (
            self.recorder.datastore.get_connection() as conn,  # type: ignore[attr-defined]
            conn.transaction(),
            conn.cursor(name="herald_stream") as cur,
        ):
            cur.itersize = batch
            cur.execute(query, params)
            for row in cur:
                recorded = self.streamed(row["notification_id"], self._stored(row))
                if account_id is not None:
                    event = recorded.event
                    owner = getattr(event, "account_id", None)
                    if event.originator_version == 1 and account_id not in (
                        event.originator_id,
                        owner,
                    ):
                        not_its.add(event.originator_id)
                    if event.originator_id in not_its:
                        continue
                yield recorded

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
