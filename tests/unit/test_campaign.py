from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from freezegun import freeze_time

from domain.campaign import Campaign, initial_status
from domain.errors import InvalidTransition
from domain.sending import RETRYABLE_ERRORS, is_retryable
from domain.status import CampaignStatus, RecipientStatus

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def make(schedule_type: str = "now", scheduled_at: datetime | None = None) -> Campaign:
    return Campaign(
        id=uuid4(),
        account_id=uuid4(),
        agent_id=uuid4(),
        name="March",
        message_template="Hi",
        from_numbers=["+447446466847"],
        schedule_type=schedule_type,
        status=initial_status(schedule_type).value,
        scheduled_at=scheduled_at,
        source="api",
        created_at=NOW,
        recipient_count=2,
        batch_count=1,
        segments_total=2,
        duplicates_removed=0,
        skipped=[],
        warnings=[],
        idempotency_key=None,
        request_hash=None,
    )


def test_schedule_type_decides_the_first_status() -> None:
    assert initial_status("now") == CampaignStatus.RUNNING
    assert initial_status("schedule") == CampaignStatus.SCHEDULED
    assert initial_status("draft") == CampaignStatus.DRAFT


@pytest.mark.parametrize("schedule_type", ["now", "schedule", "draft"])
def test_the_created_event_carries_the_first_status(schedule_type: str) -> None:
    campaign = make(schedule_type, NOW + timedelta(hours=1))
    (created,) = campaign.collect_events()
    assert created.status == initial_status(schedule_type)  # type: ignore[attr-defined]
    assert campaign.status == initial_status(schedule_type)


@pytest.mark.parametrize("schedule_type", ["now", "schedule", "draft"])
def test_open_campaigns_can_be_cancelled_once(schedule_type: str) -> None:
    campaign = make(schedule_type, NOW + timedelta(hours=1))
    campaign.cancel(at=NOW)
    assert campaign.status == CampaignStatus.CANCELLED
    with pytest.raises(InvalidTransition):
        campaign.cancel(at=NOW)


@freeze_time(NOW)
def test_launching_a_draft_with_a_future_time_schedules_it() -> None:
    campaign = make("draft", NOW + timedelta(days=1))
    campaign.launch(at=NOW)
    assert campaign.status == CampaignStatus.SCHEDULED
    with pytest.raises(InvalidTransition):
        campaign.launch(at=NOW)


def test_launching_a_draft_without_a_time_runs_it() -> None:
    campaign = make("draft")
    campaign.launch(at=NOW)
    assert campaign.status == CampaignStatus.RUNNING


def test_events_are_named_in_the_past_tense() -> None:
    campaign = make("draft")
    campaign.launch(at=NOW)
    campaign.cancel(at=NOW)
    names = [type(e).__name__ for e in campaign.collect_events()]
    assert names == ["Created", "Launched", "Cancelled"]


def test_a_running_campaign_records_its_quiet_hours_hold_once_and_its_end() -> None:
    campaign = make()
    nine = NOW + timedelta(hours=23)
    assert campaign.hold_for_quiet_hours(nine, NOW) is True
    assert campaign.hold_for_quiet_hours(nine, NOW + timedelta(seconds=1)) is False  # no news
    assert campaign.held_until == nine
    assert campaign.end_hold(nine) is True
    assert campaign.end_hold(nine) is False
    held = [e for e in campaign.collect_events() if "Held" in type(e).__qualname__]
    assert [type(e).__qualname__ for e in held] == ["Campaign.HeldForQuietHours"]


def test_only_a_running_campaign_is_held_for_quiet_hours() -> None:
    with pytest.raises(InvalidTransition):
        make("draft").hold_for_quiet_hours(NOW + timedelta(hours=1), NOW)


def test_a_retry_records_which_failures_it_sends_again() -> None:
    campaign = make()
    campaign.retry_failed(at=NOW, round_=1)
    retry = campaign.collect_events()[-1]
    assert retry.statuses == ["failed", "undelivered"]  # type: ignore[attr-defined]
    assert retry.error_codes == sorted(RETRYABLE_ERRORS)  # type: ignore[attr-defined]
    assert all(
        is_retryable(RecipientStatus(s), c) for s in retry.statuses for c in retry.error_codes
    )  # type: ignore[attr-defined]
