"""Rebuilding the read models from a store of a few hundred thousand events, against two
baselines measured in the same run: reading and decoding the same events (what any replay
pays before it writes a row), and one bare UPDATE by primary key per event, pipelined (what
any projection that writes a statement per event pays in PostgreSQL).

    .venv/bin/python -m bench.rebuild [RECIPIENTS] [--reuse DATABASE_URL]

The store is filled by bench/workload.py (campaigns created through the use case, each
recipient's message with its attempt, SID and callbacks: about 4 events a recipient).
Prints the events, the rebuild's events per second, the baselines', the ratios, and
whether every read-model table's checksum is the same after the rebuild as before.
`--reuse` rebuilds a store an earlier run filled instead of filling a new one.
"""

import sys
import time

from eventsourcing.persistence import StoredEvent

from bench.common import fresh_database
from bench.workload import fill
from interfaces.bootstrap import Herald, bootstrap
from interfaces.settings import Settings
from projections.checksums import table_checksums


def read_and_decode(herald: Herald, page: int = 1000) -> int:
    """Every event read in pages as the projector reads them, and decoded by the mapper."""
    mapper = herald.store.mapper
    position, count = 0, 0
    with herald.pool.connection() as conn:
        while True:
            rows = conn.execute(
                "SELECT notification_id, originator_id, originator_version, topic, state"
                " FROM herald_events WHERE notification_id > %s ORDER BY notification_id"
                " LIMIT %s",
                (position, page),
            ).fetchall()
            if not rows:
                return count
            for row in rows:
                mapper.to_domain_event(StoredEvent(row[1], row[2], row[3], bytes(row[4])))
            count += len(rows)
            position = rows[-1][0]


def bare_updates(herald: Herald, count: int) -> float:
    """Seconds for `count` single-row UPDATEs by primary key, pipelined, rolled back."""
    with herald.pool.connection() as conn:
        ids = [r[0] for r in conn.execute("SELECT message_id FROM herald.messages").fetchall()]
        rows = [(ids[n % len(ids)],) for n in range(count)]
        with conn.transaction(force_rollback=True):
            started = time.perf_counter()
            with conn.pipeline(), conn.cursor() as cur:
                cur.executemany(
                    "UPDATE herald.messages SET callbacks = callbacks + 1 WHERE message_id = %s",
                    rows,
                )
            return time.perf_counter() - started


def settle(herald: Herald) -> None:
    """The dead rows of the rolled-back updates vacuumed and the WAL checkpointed, so that
    neither an autovacuum nor a checkpoint the bench itself caused runs during the rebuild."""
    with herald.pool.connection() as conn:
        conn.autocommit = True
        conn.execute("VACUUM herald.messages")
        conn.execute("CHECKPOINT")


def checksums(herald: Herald) -> dict[str, tuple[int, str]]:
    with herald.pool.connection() as conn:
        return table_checksums(conn)


def main(recipients: int, reuse: str | None) -> int:
    herald = bootstrap(Settings(database_url=reuse or fresh_database("herald_bench_rebuild")))
    if reuse:
        events = herald.store.last_position()
        print(f"store: {events} events (reused)")
    else:
        made = fill(herald, recipients)
        events = made["events"]
        print(
            f"store: {events} events ({recipients} recipients in {len(made['campaigns'])}"
            f" campaigns), recorded in {made['record_s']:.1f} s, projected live by"
            f" {made['total_s']:.1f} s"
        )
    before = checksums(herald)
    started = time.perf_counter()
    decoded = read_and_decode(herald)
    baseline_s = time.perf_counter() - started
    updates = min(events, 100_000)
    updates_rate = updates / bare_updates(herald, updates)
    settle(herald)
    started = time.perf_counter()
    herald.projector.rebuild()
    rebuild_s = time.perf_counter() - started
    after = checksums(herald)
    rate, baseline = events / rebuild_s, decoded / baseline_s
    print(f"baseline, read and decode every event: {baseline_s:.2f} s, {baseline:,.0f} events/s")
    print(f"baseline, one bare UPDATE by key per event, pipelined: {updates_rate:,.0f}/s")
    print(
        f"rebuild: {rebuild_s:.2f} s, {rate:,.0f} events/s ({rate / baseline:.2f}x reading and"
        f" decoding, {rate / updates_rate:.2f}x bare updates; target >= 20,000/s, SPEC 50,000/s)"
    )
    rows = sum(n for n, _ in after.values())
    same = before == after
    print(f"checksums of {len(after)} tables ({rows} rows): {'equal' if same else 'DIFFERENT'}")
    for table in sorted(set(before) | set(after)):
        if before.get(table) != after.get(table):
            print(f"  {table}: before {before.get(table)}, after {after.get(table)}")
    herald.close()
    return 0 if same else 1


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if not a.startswith("--reuse")]
    reused = sys.argv[sys.argv.index("--reuse") + 1] if "--reuse" in sys.argv else None
    if reused in arguments:
        arguments.remove(reused)
    sys.exit(main(int(arguments[0]) if arguments else 100_000, reused))
