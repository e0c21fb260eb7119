"""`herald audit phone` on a store of at least 1,000,000 events.

    .venv/bin/python -m bench.audit [EVENTS]

The store: bench/workload.py records 10,000 recipients' messages over 10,000 phones with
the real use cases and domain events (about 40,000 events, projected by the projector);
then its message events are copied in SQL with new originator ids (an md5 of the id and
the copy's number), with their herald.messages rows (same phone, same account), until the
log holds EVENTS. Each phone then has about 25 messages of about 4 events each, in a log
of EVENTS events.

Prints: the store's size, the wall time of `herald audit phone` (the command, process
start included; median of 5), of the audit use case in-process (median of 20), the plans
of its two queries, and how many sequential scans PostgreSQL counted on herald_events and
herald.messages while the command ran (0: the audit used indexes only).
"""

import os
import statistics
import subprocess
import sys
import time
from uuid import UUID

from bench.common import HERALD, fresh_database
from bench.workload import fill, phone
from domain import ids
from domain.consent import consent_id
from interfaces.bootstrap import Herald, bootstrap
from interfaces.settings import Settings
from projections.audit import PHONE_MESSAGES

AUDITED = phone(50)  # opted out by the workload, 25 messages


def multiply(herald: Herald, events: int) -> int:
    """Copy the message events (and their read-model rows) until the log holds `events`."""
    with herald.pool.connection() as conn:
        conn.autocommit = True  # each copy commits on its own (a transaction block below)
        conn.execute("CREATE TEMP TABLE base AS SELECT message_id FROM herald.messages")
        columns = [
            row[0]
            for row in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema ="
                " 'herald' AND table_name = 'messages' ORDER BY ordinal_position"
            ).fetchall()
        ]
        copied = {
            "message_id": "md5(message_id::text || %(k)s)::uuid",
            "twilio_sid": "twilio_sid || '-' || %(k)s",
        }
        select = ", ".join(copied.get(c, c) for c in columns)
        copy = 0
        while (herald.store.last_position()) < events:
            copy += 1
            with conn.transaction():
                conn.execute(
                    "INSERT INTO herald_events (originator_id, originator_version, topic, state)"
                    " SELECT md5(e.originator_id::text || %(k)s)::uuid, e.originator_version,"
                    " e.topic, e.state FROM herald_events e JOIN base b"
                    " ON e.originator_id = b.message_id ORDER BY e.notification_id",
                    {"k": str(copy)},
                )
                conn.execute(
                    f"INSERT INTO herald.messages ({', '.join(columns)})"  # type: ignore[arg-type]
                    f" SELECT {select} FROM herald.messages JOIN base USING (message_id)",
                    {"k": str(copy)},
                )
            print(f"  copy {copy}: {herald.store.last_position():,} events", flush=True)
        conn.execute(
            "UPDATE herald.projection_tracking SET position = %s", (herald.store.last_position(),)
        )
        conn.execute("ANALYZE herald_events")
        conn.execute("ANALYZE herald.messages")
        conn.execute("DROP TABLE base")
        conn.autocommit = False
    return herald.store.last_position()


def scans(herald: Herald) -> dict[str, tuple[int, int]]:
    with herald.pool.connection() as conn:
        rows = conn.execute(
            "SELECT relname, seq_scan, coalesce(idx_scan, 0) FROM pg_stat_user_tables"
            " WHERE relname IN ('herald_events', 'messages')"
        ).fetchall()
    return {row[0]: (row[1], row[2]) for row in rows}


def plans(herald: Herald, account: UUID) -> list[str]:
    message_ids = herald.audit.index.phone_messages(account, AUDITED)
    with herald.pool.connection() as conn:
        first = conn.execute(
            "EXPLAIN " + PHONE_MESSAGES,  # type: ignore[operator]
            {"phone": AUDITED, "account": account},
        ).fetchall()
        second = conn.execute(
            "EXPLAIN SELECT notification_id FROM herald_events WHERE originator_id = ANY(%s)"
            " AND notification_id > 0 ORDER BY notification_id",
            ([consent_id(account, AUDITED), *message_ids],),
        ).fetchall()
    return [row[0] for row in first + second]


def main(events: int) -> None:
    url = fresh_database("herald_bench_audit")
    herald = bootstrap(Settings(database_url=url))
    started = time.perf_counter()
    made = fill(herald, 10_000, per_campaign=10_000)
    print(f"workload: {made['events']:,} events in {time.perf_counter() - started:.0f} s")
    total = multiply(herald, events)
    account = made["account"]
    public = ids.public_id(ids.ACCOUNT, account)
    print(f"store: {total:,} events, filled in {time.perf_counter() - started:.0f} s")
    for line in plans(herald, account):
        print("  plan: " + line)
    in_process = []
    for _ in range(20):
        begun = time.perf_counter()
        found = herald.audit.phone(account, AUDITED)
        in_process.append(time.perf_counter() - begun)
    print(
        f"audit use case: {len(found.events)} events, consent {found.consent.status},"
        f" sent after STOP {len(found.sent_after_stop)}:"
        f" median {statistics.median(in_process) * 1000:.1f} ms,"
        f" max {max(in_process) * 1000:.1f} ms over 20"
    )
    time.sleep(1.5)  # the statistics of the connections above reach the counters
    before = scans(herald)
    command = [HERALD, "audit", "phone", AUDITED, "--account", public]
    env = {**os.environ, "DATABASE_URL": url}
    runs, output = [], ""
    for _ in range(5):
        begun = time.perf_counter()
        output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
        runs.append(time.perf_counter() - begun)
    version = [HERALD, "--help"]
    startup = [0.0] * 3
    for n in range(3):
        begun = time.perf_counter()
        subprocess.run(version, env=env, capture_output=True, check=True)
        startup[n] = time.perf_counter() - begun
    time.sleep(1.5)
    after = scans(herald)
    print(
        f"herald audit phone {AUDITED}: median {statistics.median(runs):.2f} s over 5"
        f" (min {min(runs):.2f} s); the command's start alone (herald --help):"
        f" {statistics.median(startup):.2f} s"
    )
    for table, (seq, idx) in sorted(after.items()):
        print(
            f"  {table}: sequential scans during the runs {seq - before[table][0]},"
            f" index scans {idx - before[table][1]}"
        )
    print("--- output of the last run ---")
    print(output)
    herald.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
