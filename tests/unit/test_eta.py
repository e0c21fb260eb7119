"""The estimated completion of a campaign: pacing, and the waits quiet hours impose."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from domain.eta import completion_at
from domain.quiet_hours import DEFAULT_QUIET_HOURS, QuietHours

LONDON = ("Europe/London",)
NEW_YORK = ("America/New_York",)


def london(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=ZoneInfo("Europe/London"))


def test_without_quiet_hours_it_is_the_segments_at_the_numbers_pace() -> None:
    start = london(26, 22)
    assert completion_at(start, {LONDON: 100}, 10, None) == start + timedelta(seconds=10)


def test_in_the_day_the_window_does_not_matter() -> None:
    start = london(26, 10)
    eta = completion_at(start, {LONDON: 600}, 2, DEFAULT_QUIET_HOURS)
    assert eta == start + timedelta(minutes=5)


def test_a_campaign_started_at_night_waits_for_nine() -> None:
    eta = completion_at(london(26, 22), {LONDON: 60}, 1, DEFAULT_QUIET_HOURS)
    assert eta == london(27, 9, 1)


def test_what_is_left_when_the_window_opens_goes_the_next_morning() -> None:
    # 60 of 120 segments go before 21:00; the other 60 from 09:00.
    eta = completion_at(london(26, 20, 59), {LONDON: 120}, 1, DEFAULT_QUIET_HOURS)
    assert eta == london(27, 9, 1)


def test_open_zones_are_sent_to_while_others_wait() -> None:
    # London's half goes from 13:00 (done by 13:30) while New York waits for its 09:00
    # (14:00 in London); New York's half is done by 14:30.
    start = london(26, 13)
    eta = completion_at(start, {LONDON: 1800, NEW_YORK: 1800}, 1, DEFAULT_QUIET_HOURS)
    assert eta == london(26, 14, 30)


def test_nothing_to_send_is_done_at_once_and_no_number_never() -> None:
    start = london(26, 12)
    assert completion_at(start, {}, 5, DEFAULT_QUIET_HOURS) == start
    assert completion_at(start, {LONDON: 0}, 5, DEFAULT_QUIET_HOURS) == start
    assert completion_at(start, {LONDON: 10}, 0, DEFAULT_QUIET_HOURS) is None


def test_a_window_open_a_minute_a_day_still_gives_an_estimate() -> None:
    narrow = QuietHours(time(9, 1), time(9, 0))
    eta = completion_at(london(26, 12), {LONDON: 180}, 1, narrow)
    assert eta == london(29, 9, 1)


@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)
    ),
    segments=st.integers(0, 200_000),
    mps=st.integers(1, 1000),
)
def test_quiet_hours_only_ever_delay_it(start: datetime, segments: int, mps: int) -> None:
    paced = completion_at(start, {LONDON: segments}, mps, None)
    held = completion_at(start, {LONDON: segments}, mps, DEFAULT_QUIET_HOURS)
    assert paced is not None and held is not None
    assert held >= paced
    if segments:  # the last segment goes while London is not in quiet hours
        assert not DEFAULT_QUIET_HOURS.contains(
            (held - timedelta(microseconds=1)).astimezone(ZoneInfo("Europe/London"))
        )
