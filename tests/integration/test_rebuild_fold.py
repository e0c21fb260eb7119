"""A rebuild folds a batch's message events in Python and writes them set-based
(projections/fold.py): the read models it makes equal those made event by event by the live
projection, on messages whose events interleave, whether a message's events fall in one
batch or in several."""

import math
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import MapperDeserialisationError, StoredEvent
from eventsourcing.utils import TopicError

from application.campaign_checks import CreateCampaign, RecipientIn
from bench.workload import fill
from domain.campaign import Campaign
from domain.message import Message, campaign_message_id
from interfaces.bootstrap import Herald
from projections import fold, rebuild
from projections.checksums import table_checksums
from tests.integration.conftest import Tenant

AT = datetime(2026, 11, 3, 9, tzinfo=UTC)


def checksums(herald: Herald) -> dict[str, tuple[int, str]]:
    with herald.pool.connection() as conn:
        return table_checksums(conn)


def message(tenant: Tenant, campaign: UUID | None, index: int, round_: int = 0) -> Message:
    return Message(
        id=campaign_message_id(campaign, index, round_) if campaign else uuid4(),
        account_id=tenant.account_id,
        agent_id=UUID(int=0) if campaign is None else _agent(tenant),
        to=f"+44711122{index:04d}",
        from_number=tenant.from_number,
        body=f"Hi {index}",
        segments=1,
        encoding="GSM-7",
        created_at=AT,
        campaign_id=campaign,
        recipient_index=None if campaign is None else index,
        attempted_by="d1" if index % 2 else None,
    )


def _agent(tenant: Tenant) -> UUID:
    from domain import ids

    agent = ids.parse_public_id(ids.AGENT, tenant.agent_id)
    assert agent is not None
    return agent


def interleaved(herald: Herald, tenant: Tenant) -> tuple[Message, str]:
    """Messages of one campaign whose events interleave, each step projected live."""
    store = herald.store
    created = herald.campaigns.create(
        tenant.account_id,
        CreateCampaign(
            agent_id=tenant.agent_id,
            name="interleaved",
            message_template="Hi {{n}}",
            recipients=[RecipientIn(f"+44711122{i:04d}", {"n": str(i)}) for i in range(8)],
            from_numbers=[tenant.from_number],
        ),
        source="api",
    )
    campaign = created.campaign_id
    m = [message(tenant, campaign, i) for i in range(6)]
    loose = message(tenant, None, 99)  # not a campaign's: no recipient to follow it
    s = [f"SM{uuid4().hex}" for _ in range(8)]

    def at(seconds: float) -> datetime:
        return AT + timedelta(seconds=seconds)

    def step(*aggregates: object) -> None:
        store.record(*aggregates)
        herald.projector.catch_up()

    step(*m, loose)
    # 0: delivered before sent, then a repeated delivered: three callbacks, forward only.
    m[0].attempt(at(1), "d1")
    m[0].queued(s[0], at(2))
    m[0].status_reported("delivered", s[0], None, None, at(5))
    step(m[0], loose)
    m[0].status_reported("sent", s[0], None, None, at(3))
    m[0].status_reported("delivered", s[0], None, None, at(6))
    # 1: deferred, attempted again, uncertain, then answered; undelivered, then a late sent.
    m[1].deferred("busy", 20429, at(30), at(2))
    loose.queued(s[7], at(2))
    step(m[1], loose)
    m[1].attempt(at(30), "d2")
    m[1].uncertain("timeout", at(31))
    m[1].queued(s[1], at(32))
    m[1].status_reported("undelivered", s[1], 30003, "Unreachable", at(40))
    m[1].status_reported("sent", s[1], None, None, at(35))
    loose.status_reported("delivered", s[7], None, None, at(9))
    step(m[0], m[1], loose)
    # 2: suppressed before any attempt; 3: rejected; 4: a callback with no SID of its own.
    m[2].suppress("opted_out", at(3))
    m[3].rejected(21211, "Invalid 'To'", at(3))
    m[4].attempt(at(3), "d1")
    m[4].queued(s[4], at(4))
    m[4].status_reported("failed", "", 30008, "Unknown", at(8))
    step(m[2], m[3], m[4])
    # 5: its callbacks come after everything else, in several steps.
    m[5].queued(s[5], at(4))
    step(m[5])
    # A retry: the undelivered (30003) recipient gets a new message; the old one's late
    # callback no longer moves the recipient.
    campaign_row = store.get(Campaign, campaign)
    campaign_row.retry_failed(at(50), round_=1)
    step(campaign_row)
    again = message(tenant, campaign, 1, round_=1)
    step(again)
    m[1].status_reported("delivered", s[1], None, None, at(60))
    again.queued(s[6], at(62))
    step(m[1], again)
    again.status_reported("delivered", s[6], None, None, at(70))
    m[5].status_reported("sent", s[5], None, None, at(71))
    step(again, m[5])
    m[5].status_reported("undelivered", s[5], 30003, "Unreachable", at(72))
    step(m[5])
    return m[2], s[5]


class Workload:
    """The interleaved messages, then campaigns' worth of ordinary ones, projected live
    event by event: the read models' checksums then, and a message and a SID another
    message has, for the last test."""

    def __init__(self, herald: Herald) -> None:
        self.message, self.taken = interleaved(herald, Tenant(herald))
        fill(herald, 120, per_campaign=50, phones=60)
        self.live = checksums(herald)


@pytest.fixture(scope="module")
def workload(herald: Herald) -> Workload:
    return Workload(herald)


def rebuilt_with_batches(
    herald: Herald, monkeypatch: pytest.MonkeyPatch, batch: int
) -> tuple[dict[str, tuple[int, str]], list[int]]:
    """The checksums after a rebuild in batches of `batch` events, and the runs folded."""
    folded: list[int] = []
    real = fold._Fold.write

    def counted(self: fold._Fold, run: list[object]) -> None:
        folded.append(len(run))
        real(self, run)

    monkeypatch.setattr(fold._Fold, "write", counted)
    monkeypatch.setattr(rebuild, "REBUILD_BATCH", batch)
    monkeypatch.setattr(herald.projector, "batch_size", min(batch, 1000))
    herald.projector.rebuild()
    return checksums(herald), folded


@pytest.mark.parametrize("batch", [20_000, 5])
def test_a_folded_rebuild_equals_the_event_by_event_projection(
    herald: Herald, workload: Workload, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    """Small batches split messages' events across batches (a message created in one and
    finished in another); a large one folds whole runs of them."""
    after, folded = rebuilt_with_batches(herald, monkeypatch, batch)
    assert after == workload.live
    assert sum(folded) > 300  # the message events were folded, not applied one by one
    if batch == 20_000:
        assert max(folded) > 150


def test_an_event_the_live_projection_skipped_is_skipped_by_the_rebuild_too(
    herald: Herald, workload: Workload, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A callback naming a SID another message already has: the live projection skips it
    and records it. The rebuild's fold fails on it: its batch is halved, and halved again,
    the halves without it folded, the few events around it applied one by one."""
    message, taken = workload.message, workload.taken
    message.status_reported("delivered", taken, None, None, AT + timedelta(minutes=5))
    position = herald.store.record(message)
    herald.projector.catch_up()
    assert position in {f["notification_id"] for f in herald.projector.failures()}
    before = checksums(herald)
    after, folded = rebuilt_with_batches(herald, monkeypatch, 20_000)
    assert after == before
    assert sum(folded) > 300
    assert position in {f["notification_id"] for f in herald.projector.failures()}


def test_a_rebuild_decodes_every_event_as_the_store_does(
    herald: Herald, workload: Workload
) -> None:
    """The rebuild's faster JSON decoding (msgspec) gives the same events as the store's
    mapper, for every event recorded (and refuses those it refuses: other tests record
    undecodable ones), and falls back to it for JSON msgspec refuses."""
    mapper, fast = herald.store.mapper, fold.fast_mapper(herald.store.mapper)
    assert fast is not mapper
    with herald.pool.connection() as conn:
        rows = conn.execute(
            "SELECT originator_id, originator_version, topic, state FROM herald_events"
        ).fetchall()
    assert len(rows) > 500
    for row in rows:
        stored = StoredEvent(row[0], row[1], row[2], bytes(row[3]))
        try:
            expected = mapper.to_domain_event(stored).__dict__
        except (MapperDeserialisationError, TopicError) as refused:
            with pytest.raises(type(refused)):
                fast.to_domain_event(stored)
            continue
        assert fast.to_domain_event(stored).__dict__ == expected
    odd = b'{"a": NaN, "b": {"_type_": "uuid_hex", "_data_": "%s"}}' % uuid4().hex.encode()
    decoded, expected = fast.transcoder.decode(odd), mapper.transcoder.decode(odd)
    assert decoded["b"] == expected["b"] and math.isnan(decoded["a"])
