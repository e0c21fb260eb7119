from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.quiet_hours import DEFAULT_QUIET_HOURS, InvalidQuietHours, QuietHours, held_until

LONDON = ("Europe/London",)
quiet_until = DEFAULT_QUIET_HOURS.held_until


def at(hour: int, minute: int = 0, second: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, 26, hour, minute, second, tzinfo=UTC)


def test_daytime_is_not_quiet() -> None:
    assert quiet_until(LONDON, at(9)) is None
    assert quiet_until(LONDON, at(20, 59, 59)) is None


def test_evening_is_held_until_nine_next_morning() -> None:
    assert quiet_until(LONDON, at(21)) == datetime(
        2026, 11, 27, 9, tzinfo=ZoneInfo("Europe/London")
    )


def test_early_morning_is_held_until_nine_the_same_day() -> None:
    assert quiet_until(LONDON, at(8, 59)) == datetime(
        2026, 11, 26, 9, tzinfo=ZoneInfo("Europe/London")
    )


def test_summer_time_is_local_time() -> None:
    # 20:30 UTC in July is 21:30 in London: quiet.
    held = quiet_until(LONDON, at(20, 30, month=7))
    assert held is not None and held.astimezone(ZoneInfo("Europe/London")).hour == 9


def test_a_number_in_several_zones_waits_for_the_last_to_leave_quiet_hours() -> None:
    zones = ("Europe/London", "America/New_York")
    held = quiet_until(zones, at(12))  # 07:00 in New York
    assert held is not None and held.astimezone(ZoneInfo("America/New_York")).hour == 9


def test_with_the_policy_off_nothing_is_held() -> None:
    assert held_until(None, LONDON, at(23)) is None
    assert held_until(DEFAULT_QUIET_HOURS, LONDON, at(23)) is not None


def test_another_window_holds_its_own_hours() -> None:
    lunch = QuietHours.parse("12:00", "13:30")
    assert lunch.held_until(LONDON, at(11, 59)) is None
    assert lunch.held_until(LONDON, at(12, 15)) == at(13, 30)
    assert lunch.held_until(LONDON, at(23)) is None
    assert str(lunch) == "12:00-13:30"


@pytest.mark.parametrize(
    "start,end",
    [
        ("9:00", "10:00"),
        ("24:00", "09:00"),
        ("21:00", "21:00"),
        ("\uff12\uff11:00", "09:00"),
        ("21:00:00", "09:00"),
    ],
)
def test_malformed_windows_are_refused(start: str, end: str) -> None:
    with pytest.raises(InvalidQuietHours):
        QuietHours.parse(start, end)


@given(
    st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
    ),
    st.times(),
    st.times(),
)
def test_a_held_message_is_released_at_the_window_end_and_never_inside_it(
    now: datetime, start: time, end: time
) -> None:
    start, end = start.replace(second=0, microsecond=0), end.replace(second=0, microsecond=0)
    if start == end:
        return
    policy = QuietHours(start, end)
    held = policy.held_until(LONDON, now)
    if held is None:
        assert not policy.contains(now.astimezone(ZoneInfo("Europe/London")))
    else:
        local = held.astimezone(ZoneInfo("Europe/London"))
        assert held > now and held - now <= timedelta(hours=25)
        assert not policy.contains(local)
        assert (local.hour, local.minute) == (
            end.hour,
            end.minute,
        ) or local.utcoffset() != now.astimezone(ZoneInfo("Europe/London")).utcoffset()


def test_quiet_hours_begin_at_the_first_zone_to_enter_them() -> None:
    assert DEFAULT_QUIET_HOURS.begins(LONDON, at(20, 59, 55)) == at(21)
    assert DEFAULT_QUIET_HOURS.begins(LONDON, at(9)) == at(21)
    zones = ("Europe/London", "Europe/Berlin")  # Berlin is an hour ahead in November
    assert DEFAULT_QUIET_HOURS.begins(zones, at(12)) == at(20)
