"""One event the read models cannot take never wedges the projection, and a rebuild builds
beside the live read models: a failed one changes nothing."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from litestar.testing import TestClient

from domain.agent import Agent
from domain.campaign import Campaign
from interfaces.bootstrap import Herald
from projections import handlers
from tests.integration.conftest import Tenant, campaign_body
from tests.integration.test_projections import snapshot


def schemas(herald: Herald) -> set[str]:
    with herald.pool.connection() as conn:
        rows = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'herald%'")
        return {row[0] for row in rows.fetchall()}


def poison_agent(herald: Herald, tenant: Tenant) -> int:
    """An event recorded straight into the store, past every check: PostgreSQL text cannot
    hold its NUL."""
    return herald.store.record(Agent(account_id=tenant.account_id, name="a\x00b", system_prompt=""))


def poison_campaign(herald: Herald, tenant: Tenant) -> int:
    """A campaign scheduled at a time that is past year 9999 once in UTC."""
    campaign = Campaign(
        id=uuid4(),
        account_id=tenant.account_id,
        agent_id=uuid4(),
        name="far",
        message_template="Hi",
        from_numbers=[tenant.from_number],
        schedule_type="schedule",
        status="scheduled",
        scheduled_at=datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(-timedelta(hours=23))),
        source="api",
        created_at=datetime.now(UTC),
        recipient_count=0,
        batch_count=0,
        segments_total=0,
        duplicates_removed=0,
        skipped=[],
        warnings=[],
        idempotency_key=None,
        request_hash=None,
    )
    return herald.store.record(campaign)


def test_a_bad_event_is_skipped_recorded_and_the_api_keeps_working(
    client: TestClient, herald: Herald, tenant: Tenant
) -> None:
    agent_position = poison_agent(herald, tenant)
    campaign_position = poison_campaign(herald, tenant)
    herald.projector.catch_up()
    assert herald.projector.position() >= campaign_position
    failed = {f["notification_id"]: f for f in herald.projector.failures()}
    assert failed[agent_position]["topic"].endswith("Agent.Created")
    assert "NUL" in failed[agent_position]["error"]
    assert failed[campaign_position]["topic"].endswith("Campaign.Created")
    # Writes (which wait to read themselves back) and reads go on, for every account.
    other = Tenant(herald)
    for someone in (tenant, other):
        response = client.post("/v1/agents", json={"name": "Desk"}, headers=someone.headers)
        assert response.status_code == 201, response.text
        created = client.post(
            "/v1/sms/campaigns", json=campaign_body(someone), headers=someone.headers
        )
        assert created.status_code == 201, created.text
        listed = client.get("/v1/sms/campaigns", headers=someone.headers)
        assert listed.status_code == 200
        assert "far" not in [c["name"] for c in listed.json()["campaigns"]]
        assert [a["name"] for a in client.get("/v1/agents", headers=someone.headers).json()] == [
            "Reception",
            "Desk",
        ]


def test_a_lost_connection_is_not_taken_for_a_bad_event(
    herald: Herald, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Errors that are not the event's stop the catch-up; nothing is skipped."""
    real = handlers.HANDLERS["Agent.Created"]

    def lose_connection(cur: Any, event: Any) -> None:
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setitem(handlers.HANDLERS, "Agent.Created", lose_connection)
    position = herald.store.record(
        Agent(account_id=tenant.account_id, name="later", system_prompt="")
    )
    with pytest.raises(psycopg.OperationalError):
        herald.projector.catch_up()
    assert herald.projector.position() < position
    monkeypatch.setitem(handlers.HANDLERS, "Agent.Created", real)
    herald.projector.catch_up()
    assert herald.projector.position() >= position
    assert position not in {f["notification_id"] for f in herald.projector.failures()}


def test_a_rebuild_replays_past_a_bad_event_and_records_it_again(
    client: TestClient, herald: Herald, tenant: Tenant
) -> None:
    position = poison_agent(herald, tenant)
    herald.projector.catch_up()
    before = snapshot(herald)
    herald.projector.rebuild()
    assert snapshot(herald) == before
    assert position in {f["notification_id"] for f in herald.projector.failures()}
    assert schemas(herald) == {"herald"}
    assert client.get("/v1/agents", headers=tenant.headers).status_code == 200


def test_a_rebuild_that_fails_midway_changes_nothing(
    client: TestClient, herald: Herald, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.post("/v1/sms/campaigns", json=campaign_body(tenant), headers=tenant.headers)
    before = snapshot(herald)
    real = handlers.HANDLERS["Campaign.Created"]

    def fail_in_the_rebuild(cur: handlers.Writes, event: Any) -> None:
        if cur.schema != handlers.LIVE_SCHEMA:
            raise psycopg.OperationalError("the database went away")
        real(cur, event)

    monkeypatch.setitem(handlers.HANDLERS, "Campaign.Created", fail_in_the_rebuild)
    with pytest.raises(psycopg.OperationalError):
        herald.projector.rebuild()
    assert snapshot(herald) == before
    assert schemas(herald) == {"herald"}
    assert client.get("/v1/sms/campaigns", headers=tenant.headers).status_code == 200
    response = client.post("/v1/agents", json={"name": "After"}, headers=tenant.headers)
    assert response.status_code == 201


def test_reads_and_writes_go_on_during_a_rebuild(
    client: TestClient, herald: Herald, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The live read models serve while the new ones are built; what was written meanwhile
    is in the new ones too."""
    real = handlers.HANDLERS["Agent.Created"]
    during: list[int] = []

    def write_and_read_meanwhile(cur: handlers.Writes, event: Any) -> None:
        real(cur, event)
        if cur.schema != handlers.LIVE_SCHEMA and not during:
            during.append(
                client.post(
                    "/v1/agents", json={"name": "Meanwhile"}, headers=tenant.headers
                ).status_code
            )
            during.append(client.get("/v1/agents", headers=tenant.headers).status_code)

    monkeypatch.setitem(handlers.HANDLERS, "Agent.Created", write_and_read_meanwhile)
    herald.projector.rebuild()
    assert during == [201, 200]
    names = [a["name"] for a in client.get("/v1/agents", headers=tenant.headers).json()]
    assert names == ["Reception", "Meanwhile"]
