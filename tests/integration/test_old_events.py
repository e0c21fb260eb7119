"""Rules the read models apply are the domain's: the SQL status order is generated from it,
and events recorded before they carried the facts the domain decides (version 1) project
exactly as they did, through a rebuild."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import msgspec
from psycopg import sql

from application.campaign_checks import CreateCampaign, RecipientIn
from application.directory import AddNumber
from domain.campaign import Campaign, batch_id
from domain.message import Message, campaign_message_id
from domain.status import RANK, CampaignStatus
from interfaces.bootstrap import Herald
from tests.conftest import now
from tests.integration.conftest import Tenant
from tests.integration.test_projections import snapshot


def test_the_sql_status_rank_equals_the_domain_rank_for_every_status(herald: Herald) -> None:
    with herald.pool.connection() as conn:
        for status, rank in RANK.items():
            row = conn.execute("SELECT herald.status_rank(%s)", (status.value,)).fetchone()
            assert row == (rank,), status


def rewrite_as_v1(
    herald: Herald, originator_id: UUID, topic: str, to_v1: Callable[[dict[str, Any]], None]
) -> int:
    """Record the aggregate's `topic` events again as version 1 recorded them; how many."""
    mapper = herald.store.mapper
    assert mapper.cipher is None and mapper.compressor is None
    table = sql.Identifier(*herald.projector.events_table.split("."))
    with herald.pool.connection() as conn:
        rows = conn.execute(
            sql.SQL(
                "SELECT notification_id, state FROM {} WHERE originator_id = %s AND topic LIKE %s"
            ).format(table),
            (originator_id, "%:" + topic),
        ).fetchall()
        for notification_id, state in rows:
            decoded = mapper.transcoder.decode(bytes(state))
            assert decoded.pop("class_version") == 2
            to_v1(decoded)
            conn.execute(
                sql.SQL("UPDATE {} SET state = %s WHERE notification_id = %s").format(table),
                (mapper.transcoder.encode(decoded), notification_id),
            )
    return len(rows)


def without_numbers(state: dict[str, Any]) -> None:
    rows = msgspec.json.decode(state["recipients"])
    state["recipients"] = msgspec.json.encode([row[:3] for row in rows]).decode()


def first_two(herald: Herald, campaign_id: UUID) -> list[tuple[Any, ...]]:
    with herald.pool.connection() as conn:
        return conn.execute(
            "SELECT idx, status, round, error_code FROM herald.recipients"
            " WHERE campaign_id = %s AND idx < 2 ORDER BY idx",
            (campaign_id,),
        ).fetchall()


def to_v1_retry(state: dict[str, Any]) -> None:
    del state["statuses"], state["error_codes"]


def test_version_1_events_project_as_they_did(herald: Herald, tenant: Tenant) -> None:
    pool = [tenant.from_number]
    for k in range(3):
        number = f"+4474465{Tenant.counter:04d}{k}"
        herald.directory.add_number(tenant.account_id, AddNumber(number, tenant.agent_id, 5))
        pool.append(number)
    herald.consents.opt_out(tenant.account_id, "+447111000003", "STOP", "test", "SM1")
    campaign_ids = []
    for schedule_type, scheduled_at in [
        ("now", None),
        ("draft", None),
        ("schedule", now() + timedelta(days=1)),
    ]:
        command = CreateCampaign(
            agent_id=tenant.agent_id,
            name=schedule_type,
            message_template="Hi {{n}}",
            recipients=[RecipientIn(f"+4471110{i:05d}", {"n": i}) for i in range(40)],
            from_numbers=pool,
            schedule_type=schedule_type,  # type: ignore[arg-type]
            scheduled_at=scheduled_at,
        )
        created = herald.campaigns.create(tenant.account_id, command, source="api")
        campaign_ids.append(created.campaign_id)
    message = Message(
        id=uuid4(),
        account_id=tenant.account_id,
        agent_id=UUID(tenant.agent_id[-32:]),
        to="+447111000001",
        from_number=tenant.from_number,
        body="Hi",
        segments=1,
        encoding="GSM-7",
        created_at=now(),
    )
    sid = f"SM{uuid4().hex}"
    message.queued(twilio_sid=sid, at=now())
    for status in ("sending", "delivered", "sent", "receiving"):  # a late `sent`, an unknown
        message.status_reported(status, sid, None, None, now())
    herald.store.record(message)
    running = campaign_ids[0]
    for index, code in [(0, 30003), (1, 21610)]:  # a retryable failure, an opted-out phone
        recipient = Message(
            id=campaign_message_id(running, index),
            account_id=tenant.account_id,
            agent_id=UUID(tenant.agent_id[-32:]),
            to=f"+4471110{index:05d}",
            from_number=tenant.from_number,
            body="Hi",
            segments=1,
            encoding="GSM-7",
            created_at=now(),
            campaign_id=running,
            recipient_index=index,
            attempted_by="test",
        )
        recipient.rejected(error_code=code, error_message="no", at=now())
        herald.store.record(recipient)
    herald.projector.catch_up()
    herald.campaigns.retry(tenant.account_id, "smsc_" + running.hex, retryable=1)
    before = snapshot(herald)
    assert first_two(herald, running) == [(0, "pending", 1, None), (1, "failed", 0, 21610)]
    mine = [r for r in before["recipients"] if any(str(c) in r for c in campaign_ids)]
    assert {n for n in pool if any(repr(n) in r for r in mine)} == set(pool)  # all share

    for campaign_id in campaign_ids:
        assert rewrite_as_v1(herald, campaign_id, "Campaign.Created", lambda s: s.pop("status"))
        assert rewrite_as_v1(
            herald, batch_id(campaign_id, 0), "RecipientBatch.Created", without_numbers
        )
    assert rewrite_as_v1(herald, running, "Campaign.RetryRequested", to_v1_retry)
    reported = rewrite_as_v1(
        herald, message.id, "Message.StatusReported", lambda s: s.pop("herald_status")
    )
    assert reported == 4
    herald.projector.rebuild()

    assert snapshot(herald) == before
    assert first_two(herald, running) == [(0, "pending", 1, None), (1, "failed", 0, 21610)]
    statuses = [herald.store.repository.get(c).status for c in campaign_ids]
    assert statuses == [CampaignStatus.RUNNING, CampaignStatus.DRAFT, CampaignStatus.SCHEDULED]
    assert herald.store.repository.get(message.id).status == "delivered"
    assert isinstance(herald.store.repository.get(campaign_ids[0]), Campaign)
