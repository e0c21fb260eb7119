"""Read models: counts always equal a GROUP BY, a rebuild gives the same tables, writes are visible at once."""

import threading
from typing import Any
from uuid import UUID

import psycopg

from application.campaign_checks import CreateCampaign, RecipientIn
from domain.agent import Agent
from interfaces.bootstrap import Herald
from projections.projector import SCHEMA_VERSION, create_schema
from tests.integration.conftest import Tenant

TABLES = [
    "accounts",
    "api_keys",
    "agents",
    "sender_numbers",
    "campaigns",
    "recipients",
    "campaign_status_counts",
    "messages",
    "consents",
]


def counts_match_group_by(herald: Herald) -> bool:
    with herald.pool.connection() as conn:
        mismatches = conn.execute(
            """
            SELECT count(*) FROM (
                SELECT campaign_id, status, count(*)::int AS n FROM herald.recipients GROUP BY 1, 2
            ) g FULL JOIN (SELECT * FROM herald.campaign_status_counts WHERE n <> 0) c
            USING (campaign_id, status) WHERE g.n IS DISTINCT FROM c.n
            """
        ).fetchone()
    return mismatches is not None and mismatches[0] == 0


def create(herald: Herald, tenant: Tenant, phones: list[str], **changes: Any) -> str:
    command = CreateCampaign(
        agent_id=tenant.agent_id,
        name="c",
        message_template="Hi {{n}}",
        recipients=[RecipientIn(p, {"n": i}) for i, p in enumerate(phones)],
        from_number=tenant.from_number,
        **changes,
    )
    created = herald.campaigns.create(tenant.account_id, command, source="api")
    return "smsc_" + created.campaign_id.hex


def test_counts_equal_a_group_by_after_creates_and_cancels(herald: Herald, tenant: Tenant) -> None:
    herald.consents.opt_out(tenant.account_id, "+447111000003", "STOP", "test", "SM1")
    phones = [f"+4471110{i:05d}" for i in range(12_000)]  # three recipient batches
    first = create(herald, tenant, phones)
    create(herald, tenant, phones[:10])
    herald.campaigns.cancel(tenant.account_id, first)
    assert counts_match_group_by(herald)
    view = herald.queries.campaign(tenant.account_id, UUID(first[5:]))
    assert view is not None
    assert view.status_counts == {"cancelled": 11_999, "suppressed": 1}


def test_counts_follow_any_change_to_recipient_statuses(herald: Herald, tenant: Tenant) -> None:
    create(herald, tenant, [f"+4471110{i:05d}" for i in range(500)])
    with herald.pool.connection() as conn, conn.transaction(force_rollback=True):
        conn.execute("UPDATE herald.recipients SET status = 'delivered' WHERE idx % 3 = 0")
        conn.execute("UPDATE herald.recipients SET status = 'failed' WHERE idx % 7 = 0")
        conn.execute("DELETE FROM herald.recipients WHERE idx % 11 = 0")
        rows = conn.execute(
            "SELECT count(*) FROM (SELECT campaign_id, status, count(*)::int n FROM herald.recipients GROUP BY 1, 2) g"
            " FULL JOIN (SELECT * FROM herald.campaign_status_counts WHERE n <> 0) c USING (campaign_id, status)"
            " WHERE g.n IS DISTINCT FROM c.n"
        ).fetchone()
        assert rows is not None and rows[0] == 0


# A count of 0 is no count to any reader; the triggers leave one where a rebuild's recount
# has none (projections/rebuild.py, projections/checksums.py).
MEANINGFUL = {"campaign_status_counts": " WHERE n <> 0"}


def snapshot(herald: Herald) -> dict[str, list[tuple[Any, ...]]]:
    with herald.pool.connection() as conn:
        return {
            t: sorted(
                map(
                    repr,
                    conn.execute(f"SELECT * FROM herald.{t}{MEANINGFUL.get(t, '')}").fetchall(),  # type: ignore[arg-type]
                )
            )
            for t in TABLES
        }


def test_rebuild_replays_the_log_into_the_same_tables(herald: Herald, tenant: Tenant) -> None:
    create(herald, tenant, [f"+4471110{i:05d}" for i in range(50)])
    herald.consents.opt_out(tenant.account_id, "+447111000001", "STOP", "test", "SM1")
    before = snapshot(herald)
    herald.projector.rebuild()
    assert snapshot(herald) == before


def test_concurrent_requests_with_one_idempotency_key_make_one_campaign(
    herald: Herald, tenant: Tenant
) -> None:
    command = CreateCampaign(
        agent_id=tenant.agent_id,
        name="race",
        message_template="Hi",
        recipients=[RecipientIn("+447111000001")],
        from_number=tenant.from_number,
    )
    results: list[Any] = []

    def attempt() -> None:
        results.append(
            herald.campaigns.create(tenant.account_id, command, "api", idempotency_key="race")
        )

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({r.campaign_id for r in results}) == 1
    assert sum(r.created for r in results) == 1


def test_follower_applies_events_written_by_another_process(herald: Herald, tenant: Tenant) -> None:
    # A write that does not catch up itself, as another process's would look from here.
    agent = Agent(account_id=tenant.account_id, name="elsewhere", system_prompt="")
    herald.store.record(agent)
    stop = threading.Event()
    herald.projector.follow(stop, interval=0.05)
    try:
        for _ in range(100):
            if any(a.name == "elsewhere" for a in herald.queries.agents(tenant.account_id)):
                break
            stop.wait(0.05)
        assert any(a.name == "elsewhere" for a in herald.queries.agents(tenant.account_id))
    finally:
        stop.set()


def test_concurrent_writers_and_catch_ups_miss_no_event(herald: Herald, tenant: Tenant) -> None:
    """Positions must become visible in order, or a catch-up could step over a late one."""

    def write() -> None:
        for n in range(80):
            herald.store.record(Agent(account_id=tenant.account_id, name=f"w{n}", system_prompt=""))
            herald.projector.catch_up()

    threads = [threading.Thread(target=write) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    herald.projector.catch_up()
    assert len(herald.queries.agents(tenant.account_id)) == 1 + 8 * 80
    before = snapshot(herald)
    herald.projector.rebuild()
    assert snapshot(herald) == before


def test_a_process_starting_beside_running_queries_takes_no_table_lock(herald: Herald) -> None:
    """A command started while Herald runs finds the schema current and runs no DDL: the
    DDL's ALTER TABLE would wait for (and could deadlock with) the queries in progress."""
    assert isinstance(herald.pool.conninfo, str)
    with psycopg.connect(herald.pool.conninfo) as busy:
        busy.execute(
            "SELECT count(*) FROM herald.messages JOIN herald.campaigns USING (campaign_id)"
        )
        with psycopg.connect(herald.pool.conninfo, autocommit=True) as starting:
            starting.execute("SET lock_timeout = '2s'")
            create_schema(starting)  # LockNotAvailable if it ran ALTER TABLE herald.messages
            assert starting.execute(
                "SELECT obj_description('herald'::regnamespace, 'pg_namespace')"
            ).fetchone() == (SCHEMA_VERSION,)
