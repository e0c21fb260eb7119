"""Events recorded before they carried the facts now decided in the domain (version 1)
load with the facts the read models derived from them then, by the same rules."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import msgspec
import pytest
from eventsourcing.persistence import StoredEvent

from application.store import EventStore
from domain.campaign import Campaign, RecipientBatch, initial_status, recipient_batches
from domain.message import Message
from domain.recipients import PlannedRecipient
from domain.sending import CALLBACK_STATUS, RETRYABLE_ERRORS, RETRYABLE_STATUSES, callback_status
from domain.status import CampaignStatus, RecipientStatus
from tests.conftest import a_message

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
MAPPER = EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper


def recorded_as_v1(event: Any, to_v1: Callable[[dict[str, Any]], None]) -> Any:
    """The event as it reads back once recorded the way version 1 recorded it."""
    stored = MAPPER.to_stored_event(event)
    state = MAPPER.transcoder.decode(stored.state)
    assert state.pop("class_version") == 2  # what is recorded now
    to_v1(state)
    old = StoredEvent(
        stored.originator_id,
        stored.originator_version,
        stored.topic,
        MAPPER.transcoder.encode(state),
    )
    return MAPPER.to_domain_event(old)


def campaign(schedule_type: str) -> Campaign:
    return Campaign(
        id=uuid4(),
        account_id=uuid4(),
        agent_id=uuid4(),
        name="March",
        message_template="Hi",
        from_numbers=["+447446466847"],
        schedule_type=schedule_type,
        status=initial_status(schedule_type).value,
        scheduled_at=None,
        source="api",
        created_at=NOW,
        recipient_count=1,
        batch_count=1,
        segments_total=1,
        duplicates_removed=0,
        skipped=[],
        warnings=[],
        idempotency_key=None,
        request_hash=None,
    )


@pytest.mark.parametrize("schedule_type", ["now", "schedule", "draft"])
def test_an_old_campaign_created_event_gets_the_status_its_schedule_type_gave(
    schedule_type: str,
) -> None:
    (created,) = campaign(schedule_type).collect_events()
    old = recorded_as_v1(created, lambda state: state.pop("status"))
    assert old.status == initial_status(schedule_type).value
    replayed = old.mutate(None)
    assert isinstance(replayed, Campaign)
    assert replayed.status == initial_status(schedule_type)
    assert replayed.paused_from == replayed.status


def test_a_new_campaign_created_event_keeps_the_status_it_carries() -> None:
    (created,) = campaign("draft").collect_events()
    stored = MAPPER.to_stored_event(created)
    assert MAPPER.to_domain_event(stored).status == CampaignStatus.DRAFT  # type: ignore[attr-defined]


def test_an_old_retry_request_retries_the_failures_retryable_then() -> None:
    requested = campaign("now")
    requested.retry_failed(at=NOW, round_=1)
    created, retry = requested.collect_events()
    old = recorded_as_v1(retry, lambda state: [state.pop("statuses"), state.pop("error_codes")])
    assert old.statuses == sorted(s.value for s in RETRYABLE_STATUSES)
    assert old.error_codes == sorted(RETRYABLE_ERRORS)
    assert old.mutate(created.mutate(None)).retry_rounds == 1


def test_an_old_recipient_batch_gets_null_numbers_for_the_read_models_to_choose() -> None:
    recipients = [
        PlannedRecipient("+447111000001", {"first_name": "Sarah"}, False),
        PlannedRecipient("+447111000002", {}, True),
    ]
    (batch,) = recipient_batches(uuid4(), uuid4(), recipients, ["+447446400001"])
    (created,) = batch.collect_events()

    def without_numbers(state: dict[str, Any]) -> None:
        rows = msgspec.json.decode(state["recipients"])
        state["recipients"] = msgspec.json.encode([row[:3] for row in rows]).decode()

    old = recorded_as_v1(created, without_numbers)
    assert msgspec.json.decode(old.recipients) == [
        ["+447111000001", {"first_name": "Sarah"}, "pending", None],
        ["+447111000002", {}, "suppressed", None],
    ]
    assert (old.first_index, old.size) == (0, 2)
    assert isinstance(old.mutate(None), RecipientBatch)


@pytest.mark.parametrize("twilio_status", [*CALLBACK_STATUS, "receiving", ""])
def test_an_old_status_report_gets_the_herald_status_the_mapping_gives(twilio_status: str) -> None:
    report = Message.status_report(uuid4(), 1, twilio_status, "SM1", None, None, NOW)
    old = recorded_as_v1(report, lambda state: state.pop("herald_status"))
    assert old.herald_status == callback_status(twilio_status).value
    assert old.status == twilio_status


def test_an_old_status_report_moves_the_message_as_it_did() -> None:
    message = a_message(NOW)
    message.status_reported("delivered", "SM1", None, None, NOW)
    created, reported = message.collect_events()
    old = recorded_as_v1(reported, lambda state: state.pop("herald_status"))
    replayed = old.mutate(created.mutate(None))
    assert replayed.status == RecipientStatus.DELIVERED
