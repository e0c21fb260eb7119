"""Applies the event log to the read models, a batch of events per transaction.

Any process may advance the projection: `catch_up` takes a PostgreSQL advisory lock,
reads the events after the tracked position, applies them and moves the position, all in
one transaction. A writer calls `catch_up(until=its position)` after saving, so the next
read of the same client sees its write (read-your-writes); a follower thread catches up
on NOTIFY for writes made by other processes.

Positions can commit out of order (two writers take positions 7 and 8; 8 commits first).
Reading 8 and moving past 7 would lose 7 for good, so a batch reads only up to the
settled position: the highest one at a moment when no insert was in progress.
"""

import threading
from collections.abc import Iterable
from importlib import resources
from uuid import UUID

import structlog
from eventsourcing.persistence import StoredEvent
from psycopg import Connection, sql
from psycopg_pool import ConnectionPool

from application.store import EventStore
from domain.quiet_hours import QuietHours
from projections.handlers import apply_events

log = structlog.get_logger()

TRACKING_NAME = "read_models"
LOCK_KEY = 0x4E52414C44  # an arbitrary constant naming the projection's advisory lock


def schema_sql() -> str:
    return resources.files("projections").joinpath("schema.sql").read_text()


def create_schema(conn: Connection) -> None:
    with conn.transaction():
        # Several processes may start at once; the DDL must not run concurrently.
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY + 1,))
        conn.execute(schema_sql())  # type: ignore[arg-type]


class Projector:
    def __init__(
        self,
        pool: ConnectionPool,
        store: EventStore,
        events_table: str,
        batch_size: int = 1000,
    ) -> None:
        self.pool = pool
        self.store = store
        self.events_table = events_table
        self.batch_size = batch_size
        table = sql.Identifier(*events_table.split("."))
        self._select = sql.SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state"
            " FROM {} WHERE notification_id > %s AND notification_id <= %s"
            " ORDER BY notification_id LIMIT %s"
        ).format(table)
        self._settle = [
            sql.SQL("LOCK TABLE {} IN SHARE MODE").format(table),
            sql.SQL("SELECT coalesce(max(notification_id), 0) FROM {}").format(table),
        ]

    def settled_position(self) -> int:
        """A position below which every insert has committed or failed: SHARE mode waits for
        the inserts in progress (they hold ROW EXCLUSIVE) and holds new ones off briefly."""
        with self.pool.connection() as conn, conn.transaction():
            conn.execute(self._settle[0])
            row = conn.execute(self._settle[1]).fetchone()
        return int(row[0]) if row else 0

    def position(self) -> int:
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT position FROM herald.projection_tracking WHERE name = %s", (TRACKING_NAME,)
            ).fetchone()
        return row[0] if row else 0

    def catch_up(self, until: int | None = None) -> None:
        """Apply every recorded event (or at least those up to `until`)."""
        while True:
            applied, reached = self._apply_batch(until)
            if applied < self.batch_size or (until is not None and reached >= until):
                return

    def _apply_batch(self, until: int | None) -> tuple[int, int]:
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            row = cur.execute(
                "SELECT position FROM herald.projection_tracking WHERE name = %s",
                (TRACKING_NAME,),
            ).fetchone()
            position = row[0] if row else 0
            if until is not None and position >= until:
                return 0, position
            settled = self.settled_position()
            rows = cur.execute(self._select, (position, settled, self.batch_size)).fetchall()
            if not rows:
                return 0, position
            to_domain_event = self.store.mapper.to_domain_event
            events = [to_domain_event(StoredEvent(r[1], r[2], r[3], bytes(r[4]))) for r in rows]
            apply_events(cur, events)
            reached = rows[-1][0]
            cur.execute(
                "INSERT INTO herald.projection_tracking (name, position) VALUES (%s, %s)"
                " ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position",
                (TRACKING_NAME, reached),
            )
            return len(rows), reached

    def opted_out(self, account_id: UUID, phones: Iterable[str]) -> set[str]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT phone FROM herald.consents WHERE account_id = %s AND opted_out",
                (account_id,),
            ).fetchall()
        if not rows:
            return set()
        opted = {r[0] for r in rows}
        return {phone for phone in phones if phone in opted}

    def quiet_hours(self, account_ids: Iterable[UUID]) -> dict[UUID, QuietHours | None]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT account_id, quiet_hours_start, quiet_hours_end FROM herald.accounts"
                " WHERE account_id = ANY(%s)",
                (list(account_ids),),
            ).fetchall()
        return {
            account_id: QuietHours(start, end) if start is not None and end is not None else None
            for account_id, start, end in rows
        }

    def rebuild(self) -> None:
        """Drop every read model and replay the whole log into fresh tables."""
        with self.pool.connection() as conn:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
                conn.execute("DROP SCHEMA IF EXISTS herald CASCADE")
            create_schema(conn)
        self.catch_up()

    def follow(
        self, stop: threading.Event, interval: float = 1.0, gather: float = 0.02
    ) -> threading.Thread:
        """A thread that catches up whenever the log grows (NOTIFY) or every `interval`;
        notifications arriving within `gather` seconds are taken in one catch-up."""
        channel = self.events_table.split(".")[-1]

        def run() -> None:
            while not stop.is_set():
                try:
                    with self.pool.connection() as conn:
                        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                        conn.commit()
                        while not stop.is_set():
                            self.catch_up()
                            for _ in conn.notifies(timeout=interval, stop_after=1):
                                stop.wait(gather)
                            for _ in conn.notifies(timeout=0):  # drain what came meanwhile
                                pass
                except Exception as error:
                    # Database restarts and shutdowns land here; catch up again after a pause.
                    log.warning("projection_follower_failed", error=str(error))
                    stop.wait(interval)

        thread = threading.Thread(target=run, name="projection-follower", daemon=True)
        thread.start()
        return thread
