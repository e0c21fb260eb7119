"""`herald projections rebuild`: fresh read models, built beside the live ones, swapped in.

The whole log is replayed into schema `herald_rebuild` (schema.sql with the schema's name
changed; the handlers' statements are pointed there by `Writes`), while the live read
models in `herald` go on serving reads, API keys and the dispatcher. Only once it is
complete are the two swapped, in one transaction under the live projection's lock:
`herald` is renamed aside and `herald_rebuild` becomes `herald`. A rebuild that fails at
any point before that leaves the live read models as they were.
"""

import psycopg
import structlog
from psycopg import Connection, sql

from projections.analysts import grant_reads
from projections.fold import fast_mapper
from projections.projector import (
    LOCK_KEY,
    SCHEMA_LOCK_KEY,
    Projector,
    create_schema,
    schema_sql,
)

log = structlog.get_logger()

REBUILD_SCHEMA = "herald_rebuild"
REPLACED_SCHEMA = "herald_replaced"
ONE_REBUILD_LOCK_KEY = LOCK_KEY + 3  # a second rebuild would drop the first one's schema
# Events per transaction of a rebuild: its message events are folded a batch at a time
# (projections/fold.py), so the larger the batch, the fewer the statements.
REBUILD_BATCH = 20_000


def rebuild_beside(live: Projector) -> int:
    """Rebuild the read models of `live` and swap them in; the position they reached."""
    builder = Projector(
        live.pool,
        live.store,
        live.events_table,
        max(live.batch_size, REBUILD_BATCH),
        schema=REBUILD_SCHEMA,
    )
    builder.mapper = fast_mapper(live.store.mapper)
    # A connection of its own, outside the pool: each step commits on its own, so that the
    # builder's connections see the new schema.
    conninfo = live.pool.conninfo
    assert isinstance(conninfo, str)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (ONE_REBUILD_LOCK_KEY,))
        try:
            _drop(conn, REBUILD_SCHEMA)  # what a failed rebuild may have left
            create_schema(conn, REBUILD_SCHEMA)
            grant_reads(conn, REBUILD_SCHEMA)  # analysts read the new schema once swapped in
            _count_triggers(conn, enabled=False)
            # The log read in pages by position wants an index scan; a log never analyzed
            # (a store just filled) was planned as a scan and sort of all the rest of it for
            # every page: 6 of a 320,844-event rebuild's 29 s (docs/benchmarks.md).
            conn.execute(
                sql.SQL("ANALYZE {}").format(sql.Identifier(*live.events_table.split(".")))
            )
            builder.replay(conninfo)  # the bulk of the log, while the live models serve
            builder.catch_up()  # what was recorded meanwhile
            _recount(conn)
            _swap_in(conn, builder)
        except BaseException:
            _drop(conn, REBUILD_SCHEMA)
            raise
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (ONE_REBUILD_LOCK_KEY,))
        # The replaced tables go in a transaction of their own: it waits for any read
        # still using them, and does not hold up the swap meanwhile.
        _drop(conn, REPLACED_SCHEMA)
    position = live.position()
    log.info("projections_rebuilt", position=position, failures=len(live.failures()))
    return position


def _swap_in(conn: Connection, builder: Projector) -> None:
    with conn.transaction():
        # No live catch-up (nor schema DDL) runs while the schemas change places.
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
        builder.catch_up()  # what was recorded during the replay
        _drop(conn, REPLACED_SCHEMA)
        conn.execute(f"ALTER SCHEMA herald RENAME TO {REPLACED_SCHEMA}")
        conn.execute(f"ALTER SCHEMA {REBUILD_SCHEMA} RENAME TO herald")
        # Functions keep their text: the count triggers' bodies still name herald_rebuild's
        # tables. schema.sql again (idempotent) points them at herald's.
        conn.execute(schema_sql())  # type: ignore[arg-type]


def _count_triggers(conn: Connection, enabled: bool) -> None:
    """The count triggers fire on every statement that touches recipients: in a replay,
    every message event's (a message's status update ran 20-40% faster without them, in
    docs/benchmarks.md). The bulk of the log is replayed without them and the counts are
    made once at the end (`_recount`)."""
    action = "ENABLE" if enabled else "DISABLE"
    conn.execute(f"ALTER TABLE {REBUILD_SCHEMA}.recipients {action} TRIGGER USER")  # type: ignore[arg-type]


def _recount(conn: Connection) -> None:
    """campaign_status_counts made as the triggers keep it, a GROUP BY of the recipients
    (the triggers also leave a row at 0 when a status's last recipient leaves it; a recount
    has none: the same counts to every reader, see projections/checksums.py), then the
    triggers on again for what follows."""
    with conn.transaction():
        conn.execute(f"DELETE FROM {REBUILD_SCHEMA}.campaign_status_counts")  # type: ignore[arg-type]
        conn.execute(
            f"INSERT INTO {REBUILD_SCHEMA}.campaign_status_counts (campaign_id, status, n)"  # type: ignore[arg-type]
            f" SELECT campaign_id, status, count(*) FROM {REBUILD_SCHEMA}.recipients"
            " GROUP BY campaign_id, status"
        )
        _count_triggers(conn, enabled=True)


def _drop(conn: Connection, schema: str) -> None:
    conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")  # type: ignore[arg-type]
