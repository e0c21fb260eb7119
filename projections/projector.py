"""Applies the event log to the read models, a batch of events per transaction.

Any process may advance the projection: `catch_up` takes a PostgreSQL advisory lock,
reads the events after the tracked position, applies them and moves the position, all in
one transaction. A writer calls `catch_up(until=its position)` after saving, so the next
read of the same client sees its write (read-your-writes); a follower thread catches up
on NOTIFY for writes made by other processes.

Positions can commit out of order (two writers take positions 7 and 8; 8 commits first).
Reading 8 and moving past 7 would lose 7 for good, so a batch reads only up to the
settled position: the highest one at a moment when no insert was in progress.

One event is never allowed to wedge the projection: an event that cannot be applied is
skipped, recorded in `herald.projection_failures` with why, and logged (see `_apply`).
"""

import hashlib
import re
import threading
from collections.abc import Iterable, Sequence
from contextlib import closing
from importlib import resources
from typing import Any
from uuid import UUID

import psycopg
import structlog
from eventsourcing.persistence import StoredEvent
from psycopg import Connection, Cursor, sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from application.store import EventStore, Undecodable, decoded
from domain.consent import refusal
from domain.quiet_hours import DEFAULT_QUIET_HOURS, QuietHours
from domain.status import RANK
from domain.text import escaped
from projections.fold import apply_folded
from projections.handlers import LIVE_SCHEMA, apply_events
from projections.read_ahead import collector_paused, read_ahead

log = structlog.get_logger()

TRACKING_NAME = "read_models"
LOCK_KEY = 0x4E52414C44  # an arbitrary constant naming the projection's advisory lock
SCHEMA_LOCK_KEY = LOCK_KEY + 1  # held while the schema's DDL runs
REBUILD_LOCK_KEY = LOCK_KEY + 2  # a rebuild's own projection, beside the live one
SPLIT_ABOVE = 50  # a failed rebuild batch larger than this is halved (see `_apply_events`)


E164_SHAPE = re.compile(r"\+[0-9]{1,15}")


def status_rank_sql() -> str:
    """`herald.status_rank(status)`, the order in which handlers move a status forward,
    generated from domain/status.py's RANK so that SQL and Python cannot disagree. A status
    it does not know ranks NULL, and never replaces another."""
    cases = " ".join(f"WHEN '{status.value}' THEN {rank}" for status, rank in RANK.items())
    return (
        "CREATE OR REPLACE FUNCTION herald.status_rank(status text) RETURNS integer\n"
        f"LANGUAGE sql IMMUTABLE AS $$ SELECT CASE status {cases} END $$;\n"
    )


def _schema_text() -> str:
    return resources.files("projections").joinpath("schema.sql").read_text() + status_rank_sql()


# What the schema's comment says once this code's DDL has run in it.
SCHEMA_VERSION = "schema.sql " + hashlib.sha256(_schema_text().encode()).hexdigest()[:16]


def schema_sql(schema: str = LIVE_SCHEMA) -> str:
    """schema.sql and the functions generated from the domain's rules, for the live schema
    or (in a rebuild) for another one beside it; it marks the schema with its version."""
    text = _schema_text() + f"COMMENT ON SCHEMA herald IS '{SCHEMA_VERSION}';\n"
    assert re.fullmatch(r"[a-z_]+", schema)
    return re.sub(r"\bherald\b", schema, text)


def create_schema(conn: Connection, schema: str = LIVE_SCHEMA) -> None:
    """The read models' tables, made or brought up to date, unless the schema is already
    this code's. Its DDL (ALTER TABLE, triggers) locks tables one after another: run by a
    command started beside a running dispatcher, it deadlocked with the dispatcher's joins."""
    if _schema_version(conn, schema) == SCHEMA_VERSION:
        return
    with conn.transaction():
        # Several processes may start at once; the DDL must not run concurrently.
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
        if _schema_version(conn, schema) != SCHEMA_VERSION:
            conn.execute(schema_sql(schema))  # type: ignore[arg-type]


def _schema_version(conn: Connection, schema: str) -> str | None:
    row = conn.execute(
        "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = %s",
        (schema,),
    ).fetchone()
    return row[0] if row else None


def is_the_events_fault(error: Exception) -> bool:
    """Whether applying an event failed on what the event carries (skip it), rather than on
    the database or the code around it (a lost connection, a missing table: try again
    later). Errors raised in Python by a handler or the mapper are the event's."""
    if isinstance(error, psycopg.Error):
        return isinstance(error, psycopg.DataError | psycopg.IntegrityError)
    return True


class Projector:
    def __init__(
        self,
        pool: ConnectionPool,
        store: EventStore,
        events_table: str,
        batch_size: int = 1000,
        schema: str = LIVE_SCHEMA,
    ) -> None:
        self.pool = pool
        self.store = store
        self.events_table = events_table
        self.batch_size = batch_size
        self.schema = schema
        self.mapper = store.mapper  # a rebuild's decodes faster (projections/fold.py)
        self.lock_key = LOCK_KEY if schema == LIVE_SCHEMA else REBUILD_LOCK_KEY
        tracking = sql.Identifier(schema, "projection_tracking")
        self._position = sql.SQL("SELECT position FROM {} WHERE name = %s").format(tracking)
        self._track = sql.SQL(
            "INSERT INTO {} (name, position) VALUES (%s, %s)"
            " ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position"
        ).format(tracking)
        self._failed = sql.SQL(
            "INSERT INTO {} (notification_id, originator_id, topic, error)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT (notification_id) DO NOTHING"
        ).format(sql.Identifier(schema, "projection_failures"))
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
            row = conn.execute(self._position, (TRACKING_NAME,)).fetchone()
        return row[0] if row else 0

    def catch_up(self, until: int | None = None) -> None:
        """Apply every recorded event (or at least those up to `until`)."""
        while True:
            applied, reached = self._apply_batch(until)
            if applied < self.batch_size or (until is not None and reached >= until):
                return

    def _apply_batch(self, until: int | None) -> tuple[int, int]:
        # Settled before the lock, on a connection given back first: a lock holder needing a
        # second connection stalls (until the pool's timeout) when every connection of the
        # pool is held by a writer waiting for the lock.
        settled = self.settled_position()
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (self.lock_key,))
            row = cur.execute(self._position, (TRACKING_NAME,)).fetchone()
            position = row[0] if row else 0
            if until is not None and position >= until:
                return 0, position
            rows = cur.execute(self._select, (position, settled, self.batch_size)).fetchall()
            if not rows:
                return 0, position
            self._apply(conn, cur, self._decoded(rows))
            reached = rows[-1][0]
            cur.execute(self._track, (TRACKING_NAME, reached))
            return len(rows), reached

    def replay(self, conninfo: str) -> None:
        """Apply every event settled now, each batch read and decoded on a connection and
        a thread of their own while the one before is applied (projections/read_ahead.py).
        For a rebuild's projector, the only one moving its position (one rebuild at a
        time); `catch_up` then takes what came meanwhile."""
        start, until = self.position(), self.settled_position()
        batches = read_ahead(conninfo, self._select, start, until, self.batch_size, self._decoded)
        # closing: should a batch fail, the reader stops now, not when the generator is freed
        with closing(batches), collector_paused():
            for batch in batches:
                with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                    cur.execute("SELECT pg_advisory_xact_lock(%s)", (self.lock_key,))
                    self._apply(conn, cur, batch)
                    cur.execute(self._track, (TRACKING_NAME, batch[-1][0][0]))

    def _decoded(self, rows: Sequence[Any]) -> list[tuple[Any, Any]]:
        """Each stored event's row with its domain event (or an `Undecodable`)."""
        mapper = self.mapper
        return [
            (row, decoded(mapper, StoredEvent(row[1], row[2], row[3], bytes(row[4]))))
            for row in rows
        ]

    def _apply(self, conn: Connection, cur: Cursor[Any], batch: Sequence[Any]) -> None:
        """Apply a batch of stored events; one that cannot be applied is skipped, not fatal.

        The batch goes in one savepoint; should it fail, its events go one by one, each in
        a savepoint of its own (a rebuild's large batch is halved first, see
        `_apply_events`). An event that fails on its own data (see
        `is_the_events_fault`) is recorded in projection_failures and logged, and the
        projection moves past it: otherwise every later event, and every write waiting to
        read itself back, would wait on it for ever. A fixed handler and `herald
        projections rebuild` apply it again. Any other error is raised: nothing of the batch
        is kept, and the next catch-up tries it again."""
        events = []
        for row, event in batch:
            if isinstance(event, Undecodable):  # the event's own fault: nothing to retry
                self._record_skip(cur, row, event.error)
            else:
                events.append((row, event))
        self._apply_events(conn, cur, events)

    def _apply_events(self, conn: Connection, cur: Cursor[Any], events: list[Any]) -> None:
        # A rebuild folds the batch's message events (projections/fold.py); the live
        # projection, and a batch gone wrong, apply them one statement at a time.
        apply_batch = apply_events if self.schema == LIVE_SCHEMA else apply_folded
        try:
            with conn.transaction():
                apply_batch(cur, [event for _, event in events], self.schema)
            return
        except Exception as error:
            if not is_the_events_fault(error):
                raise
        if apply_batch is apply_folded and len(events) > SPLIT_ABOVE:
            # A rebuild's batch is large: one bad event would send all of it event by event
            # (seconds); its halves are folded instead, down to the bad event's neighbours.
            half = len(events) // 2
            self._apply_events(conn, cur, events[:half])
            self._apply_events(conn, cur, events[half:])
            return
        for row, event in events:
            try:
                with conn.transaction():
                    apply_events(cur, [event], self.schema)
            except Exception as error:
                self._skip(cur, row, error)

    def _skip(self, cur: Cursor[Any], row: Sequence[Any], error: Exception) -> None:
        if not is_the_events_fault(error):
            raise error
        self._record_skip(cur, row, f"{type(error).__name__}: {error}")

    def _record_skip(self, cur: Cursor[Any], row: Sequence[Any], why: str) -> None:
        notification_id, originator_id, _, topic, _ = row
        reason = escaped(why, 2000)
        log.error(
            "projection_event_skipped",
            notification_id=notification_id,
            topic=topic,
            originator_id=str(originator_id),
            error=reason,
        )
        cur.execute(self._failed, (notification_id, originator_id, topic, reason))

    def failures(self) -> list[dict[str, Any]]:
        """The events the read models could not take, oldest first."""
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(
                sql.SQL("SELECT * FROM {} ORDER BY notification_id").format(
                    sql.Identifier(self.schema, "projection_failures")
                )
            ).fetchall()

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

    def refusals(self, account_id: UUID, phones: Iterable[str]) -> dict[str, str]:
        """Why each of these phones may not be sent to, by phone (domain.consent.refusal):
        opted out, or without an opt-in record while the account requires one."""
        wanted = list(dict.fromkeys(phones))
        # Only an E.164 phone can have a consent; anything else (NUL…) is never sent to.
        storable = [phone for phone in wanted if E164_SHAPE.fullmatch(phone)]
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT require_opt_in FROM herald.accounts WHERE account_id = %s", (account_id,)
            ).fetchone()
            required = bool(row and row[0])
            found = {
                phone: (opted_out, has_opt_in)
                for phone, opted_out, has_opt_in in conn.execute(
                    "SELECT phone, opted_out, has_opt_in FROM herald.consents"
                    " WHERE account_id = %s AND phone = ANY(%s)",
                    (account_id, storable),
                )
            }
        refused = {}
        for phone in wanted:
            reason = refusal(*found.get(phone, (False, False)), required)
            if reason is not None:
                refused[phone] = reason
        return refused

    def quiet_hours(self, account_ids: Iterable[UUID]) -> dict[UUID, QuietHours | None]:
        wanted = list(account_ids)
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT account_id, quiet_hours_start, quiet_hours_end FROM herald.accounts"
                " WHERE account_id = ANY(%s)",
                (wanted,),
            ).fetchall()
        policies: dict[UUID, QuietHours | None] = dict.fromkeys(wanted, DEFAULT_QUIET_HOURS)
        for account_id, start, end in rows:
            policies[account_id] = None if start is None or end is None else QuietHours(start, end)
        return policies

    def rebuild(self) -> int:
        """Replay the whole log into fresh read models beside these, then swap them in (see
        projections/rebuild.py); the position they reached."""
        from projections.rebuild import rebuild_beside  # it builds a Projector of its own

        return rebuild_beside(self)

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
