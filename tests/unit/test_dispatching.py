"""The dispatcher's planning and pacing rules (domain.dispatching)."""

import math
from datetime import UTC, datetime, timedelta

from domain.dispatching import (
    LEASE_SAFETY,
    QUIET_HOURS_SAFETY,
    KeptBack,
    budget,
    keep_back,
    lane_start,
    may_attempt,
    may_plan,
    spacing,
)
from domain.message import Message
from tests.conftest import a_message

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
MARGIN = 0.005


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


def test_one_segment_messages_on_a_one_mps_number_go_a_little_over_a_second_apart() -> None:
    assert spacing(1, 1, MARGIN) == 1.005


def test_a_three_segment_message_on_a_ten_mps_number_takes_three_tenths_of_a_second() -> None:
    assert math.isclose(spacing(3, 10, MARGIN), 0.3015)


def test_spacing_without_margin_is_segments_over_mps() -> None:
    assert spacing(4, 8, 0.0) == 0.5


def test_a_number_this_dispatcher_kept_starts_when_its_lease_row_says() -> None:
    assert lane_start(NOW, 0.25, None, MARGIN) == NOW + seconds(0.25)


def test_a_number_taken_over_waits_a_whole_window_after_the_last_chance_of_its_old_owner() -> None:
    # Its next slot is long past; the old owner's lease ran out (its last chance to send)
    # 0.2 s ago, and what it sent then counts in the number's window for a second more.
    assert lane_start(NOW, -5.0, 0.2, MARGIN) == NOW - seconds(0.2) + seconds(1.005)


def test_a_number_taken_over_waits_a_whole_window_after_its_next_slot_if_that_is_later() -> None:
    assert lane_start(NOW, 0.5, 0.2, MARGIN) == NOW + seconds(0.5) + seconds(1.005)


def test_a_number_with_room_and_time_left_in_the_plan_is_planned() -> None:
    assert may_plan(NOW, NOW + seconds(1), backlog=0, mps=10, horizon=1.0)


def test_a_number_whose_last_plan_is_not_yet_submitted_gets_no_more() -> None:
    assert not may_plan(NOW, NOW + seconds(1), backlog=10, mps=10, horizon=1.0)
    assert may_plan(NOW, NOW + seconds(1), backlog=9, mps=10, horizon=1.0)


def test_a_number_already_planned_to_the_end_of_the_horizon_gets_no_more() -> None:
    assert not may_plan(NOW + seconds(1), NOW + seconds(1), backlog=0, mps=10, horizon=1.0)


def test_a_number_takes_one_recipient_more_than_its_rate_fills_until_the_plan_ends() -> None:
    assert budget(NOW, NOW + seconds(1), mps=10) == 11
    assert budget(NOW + seconds(0.95), NOW + seconds(1), mps=10) == 1


def message(attempted_by: str | None = None) -> Message:
    return a_message(NOW, attempted_by=attempted_by)


def test_a_new_message_may_be_attempted_but_not_one_in_flight() -> None:
    assert may_attempt(message())
    assert not may_attempt(message(attempted_by="dispatcher-a"))


def test_a_message_deferred_by_twilio_may_be_attempted_again() -> None:
    deferred = message(attempted_by="dispatcher-a")
    deferred.deferred(reason="429", error_code=20429, retry_at=NOW, at=NOW)
    assert may_attempt(deferred)


def test_a_submission_well_inside_its_lease_and_before_quiet_hours_goes() -> None:
    assert keep_back(100.0, lease_ends=105.0, go_before=math.inf) is None


def test_a_submission_within_half_a_second_of_its_lease_ending_is_kept_back() -> None:
    assert keep_back(100.0, lease_ends=100.0 + LEASE_SAFETY - 0.01, go_before=math.inf) is (
        KeptBack.LEASE_LOST
    )
    assert keep_back(100.0, lease_ends=100.0 + LEASE_SAFETY, go_before=math.inf) is None


def test_a_submission_on_a_number_never_leased_is_kept_back() -> None:
    assert keep_back(100.0, lease_ends=0.0, go_before=math.inf) is KeptBack.LEASE_LOST


def test_a_submission_within_a_second_of_quiet_hours_is_kept_back() -> None:
    assert keep_back(100.0, lease_ends=200.0, go_before=100.0 + QUIET_HOURS_SAFETY) is (
        KeptBack.QUIET_HOURS_BEGAN
    )
    assert keep_back(100.0, lease_ends=200.0, go_before=100.0 + QUIET_HOURS_SAFETY + 0.01) is None


def test_a_lost_lease_is_the_reason_given_when_quiet_hours_have_begun_too() -> None:
    assert keep_back(100.0, lease_ends=50.0, go_before=50.0) is KeptBack.LEASE_LOST
