"""Rebuilding the read models from a store of a few hundred thousand events, against reading
and decoding the same events (what any replay pays before it writes a row).

    .venv/bin/python -m bench.rebuild [RECIPIENTS]

The store is filled by bench/workload.py (campaigns created through the use case, each
recipient's message with its attempt, SID and callbacks: about 4 events a recipient).
Prints the events, the rebuild's events per second, the baseline's, their ratio, and
whether every read-model table's checksum is the same after the rebuild as before.
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


def checksums(herald: Herald) -> dict[str, tuple[int, str]]:
    with herald.pool.connection() as conn:
        return table_checksums(conn)


def main(recipients: int) -> int:
    herald = bootstrap(Settings(database_url=fresh_database("herald_bench_rebuild")))
    made = fill(herald, recipients)
    events = made["events"]
    print(
        f"store: {events} events ({recipients} recipients in {len(made['campaigns'])} campaigns),"
        f" recorded in {made['record_s']:.1f} s, projected live by {made['total_s']:.1f} s"
    )
    before = checksums(herald)
    started = time.perf_counter()
    decoded = read_and_decode(herald)
    baseline_s = time.perf_counter() - started
    started = time.perf_counter()
    herald.projector.rebuild()
    rebuild_s = time.perf_counter() - started
    after = checksums(herald)
    rate, baseline = events / rebuild_s, decoded / baseline_s
    print(f"baseline, read and decode every event: {baseline_s:.2f} s, {baseline:,.0f} events/s")
    print(
        f"rebuild: {rebuild_s:.2f} s, {rate:,.0f} events/s"
        f" ({rate / baseline:.2f}x the baseline's rate; target >= 20,000/s, SPEC 50,000/s)"
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
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
