"""A new campaign's recipients in batches: each recipient's first status and sender number
are decided here, once, and recorded for the read models to copy."""

from uuid import uuid4

import msgspec

from domain.campaign import BATCH_SIZE, recipient_batches
from domain.recipients import PlannedRecipient
from domain.sending import sender_for

POOL = ["+447446400001", "+447446400002", "+447446400003"]


def planned(count: int, suppressed: frozenset[int] = frozenset()) -> list[PlannedRecipient]:
    return [PlannedRecipient(f"+4471110{i:05d}", {"n": i}, i in suppressed) for i in range(count)]


def rows_of(recipients: list[PlannedRecipient], pool: list[str]) -> list[list[object]]:
    batches = recipient_batches(uuid4(), uuid4(), recipients, pool)
    return [row for b in batches for row in msgspec.json.decode(b.collect_events()[0].recipients)]  # type: ignore[attr-defined]


def test_each_recipient_is_recorded_with_its_number_of_the_pool() -> None:
    recipients = planned(300)
    rows = rows_of(recipients, POOL)
    assert [row[3] for row in rows] == [sender_for(r.phone, POOL) for r in recipients]
    assert {row[3] for row in rows} == set(POOL)


def test_a_one_number_pool_sends_every_recipient_from_it() -> None:
    rows = rows_of(planned(20), POOL[:1])
    assert {row[3] for row in rows} == {POOL[0]}


def test_opted_out_recipients_are_recorded_suppressed_and_the_others_pending() -> None:
    rows = rows_of(planned(4, suppressed=frozenset({1, 3})), POOL)
    assert [row[2] for row in rows] == ["pending", "suppressed", "pending", "suppressed"]
    assert [row[:2] for row in rows] == [[f"+4471110{i:05d}", {"n": i}] for i in range(4)]


def test_recipients_are_split_into_batches_of_batch_size_in_order() -> None:
    campaign_id = uuid4()
    batches = recipient_batches(campaign_id, uuid4(), planned(2 * BATCH_SIZE + 1), POOL)
    created = [b.collect_events()[0] for b in batches]
    assert [(e.first_index, e.size) for e in created] == [  # type: ignore[attr-defined]
        (0, BATCH_SIZE),
        (BATCH_SIZE, BATCH_SIZE),
        (2 * BATCH_SIZE, 1),
    ]
    assert {e.campaign_id for e in created} == {campaign_id}  # type: ignore[attr-defined]
