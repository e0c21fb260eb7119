"""`herald projections rebuild` after a varied workload through the simulator gives read
models equal to the live ones: a checksum of every table (every column that events make),
before and after."""

import time
from typing import Any

import httpx
import pytest

from interfaces.bootstrap import Herald
from projections.checksums import table_checksums
from tests.integration.conftest import SendingWorld, Tenant, campaign_body, wait_until

INBOUND = "/webhooks/twilio/inbound"


def phones(count: int, start: int) -> list[dict[str, object]]:
    return [
        {"phone": f"+4471118{i:05d}", "variables": {"first_name": f"N{i}"}}
        for i in range(start, start + count)
    ]


def finished(http: httpx.Client, campaign_id: str) -> Any:
    def check() -> Any:
        body = http.get(f"/v1/sms/campaigns/{campaign_id}").json()
        return body["status"] in ("done", "failed", "paused") and body["pending_count"] == 0

    return check


def text_in(world: SendingWorld, tenant: Tenant, phone: str, body: str) -> None:
    httpx.post(
        f"{world.sim.url}/_sim/inbound",
        json={
            "url": world.api.url + INBOUND,
            "from": phone,
            "to": tenant.from_number,
            "body": body,
        },
    ).raise_for_status()


def settled(herald: Herald) -> None:
    """Until nothing more is recorded (callbacks, progress) and all of it is projected."""
    last = -1
    while True:
        herald.projector.catch_up()
        now = herald.store.last_position()
        if now == last and herald.projector.position() >= now:
            return
        last = now
        time.sleep(1.5)


def checksums(herald: Herald) -> dict[str, tuple[int, str]]:
    with herald.pool.connection() as conn:
        return table_checksums(conn)


@pytest.fixture(scope="module")
def workload(world: SendingWorld) -> SendingWorld:
    """Two accounts: campaigns delivered, undelivered, failed and rejected (21610 opting the
    phone out), retried, cancelled and a draft; single sends; opt-ins, opt-outs and back;
    STOP, START and replies coming in."""
    httpx.post(f"{world.sim.url}/_sim/reset").raise_for_status()
    world.simulate(
        sent_delay=0.01,
        final_delay=0.02,
        outcome_weights={"delivered": 0.6, "undelivered": 0.2, "failed": 0.2},
        reject_to={"+447111800003": 21610, "+447111800004": 21211},
        seed=11,
    )
    herald = world.herald
    first, second = Tenant(herald), Tenant(herald)
    http = world.http(first)
    herald.consents.opt_in(first.account_id, "+447111800001", "import", "crm export row 2")
    created = http.post(
        "/v1/sms/campaigns", json=campaign_body(first, recipients=phones(30, 0))
    ).json()
    wait_until(finished(http, created["campaign_id"]), timeout=60)
    world.simulate(outcome_weights={"delivered": 1.0})
    retried = http.post(f"/v1/sms/campaigns/{created['campaign_id']}/retry", json={})
    assert retried.status_code in (200, 201, 202, 409), retried.text
    for n in range(3):
        sent = http.post(
            "/v1/sms",
            json={
                "agent_id": first.agent_id,
                "to": f"+44711180010{n}",
                "from_number": first.from_number,
                "message": f"Single send {n}",
            },
        )
        assert sent.status_code == 201, sent.text
    text_in(world, first, "+447111800000", "Can I book for Tuesday?")
    text_in(world, first, "+447111800001", " stop! ")
    text_in(world, first, "+447111800002", "STOP")
    text_in(world, first, "+447111800002", "start")
    herald.consents.opt_out(second.account_id, "+447111800005", "STOP", "sms", "SM" + "5" * 32)
    herald.consents.opt_in(second.account_id, "+447111800005", "import", "signed form")
    other = world.http(second)
    draft = other.post(
        "/v1/sms/campaigns",
        json=campaign_body(second, recipients=phones(5, 40), schedule_type="draft"),
    )
    assert draft.status_code == 201, draft.text
    cancelled = other.post(
        "/v1/sms/campaigns",
        json=campaign_body(second, recipients=phones(5, 50), schedule_type="draft"),
    ).json()
    assert other.delete(f"/v1/sms/campaigns/{cancelled['campaign_id']}").status_code < 300
    wait_until(finished(http, created["campaign_id"]), timeout=60)
    # In a whole session the world's dispatcher also sends what earlier tests left due, at
    # any time: a campaign it finished during a rebuild changed the tables under the test.
    world.stop_dispatching()
    settled(herald)
    return world


def test_a_rebuild_gives_every_table_the_same_checksum(workload: SendingWorld) -> None:
    herald = workload.herald
    before = checksums(herald)
    rows = {table: n for table, (n, _) in before.items()}
    for table in ("messages", "recipients", "consents", "campaign_status_counts"):
        assert rows[table] > 0, table
    for table in ("conversations", "inbound_messages"):
        assert rows.get(table, 1) > 0, table
    herald.projector.rebuild()
    assert checksums(herald) == before


def test_the_checksums_see_a_changed_value_and_a_rebuild_puts_it_back(
    workload: SendingWorld,
) -> None:
    herald = workload.herald
    settled(herald)
    before = checksums(herald)
    with herald.pool.connection() as conn:
        conn.execute(
            "UPDATE herald.messages SET error_code = 30007"
            " WHERE message_id = (SELECT min(message_id::text)::uuid FROM herald.messages)"
        )
    changed = checksums(herald)
    assert changed["messages"] != before["messages"]
    assert {t: c for t, c in changed.items() if t != "messages"} == {
        t: c for t, c in before.items() if t != "messages"
    }
    herald.projector.rebuild()
    assert checksums(herald) == before
