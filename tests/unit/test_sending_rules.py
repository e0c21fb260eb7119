import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from domain.sending import quiet_until, retry_delay, sender_for

LONDON = ("Europe/London",)


def at(hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, 26, hour, minute, tzinfo=UTC)


def test_daytime_is_not_quiet() -> None:
    assert quiet_until(LONDON, at(9)) is None
    assert quiet_until(LONDON, at(20, 59)) is None


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


@given(
    st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
    )
)
def test_a_held_message_is_released_at_nine_local_and_never_inside_the_window(
    now: datetime,
) -> None:
    held = quiet_until(LONDON, now)
    if held is None:
        local = now.astimezone(ZoneInfo("Europe/London"))
        assert 9 <= local.hour < 21
    else:
        assert held > now and held - now <= timedelta(hours=12, minutes=1)
        assert held.astimezone(ZoneInfo("Europe/London")).hour == 9


def test_a_phone_always_gets_the_same_number_of_a_pool() -> None:
    pool = ["+447446400001", "+447446400002", "+447446400003"]
    phones = [f"+4471110{i:05d}" for i in range(300)]
    first = [sender_for(p, pool) for p in phones]
    assert first == [sender_for(p, pool) for p in phones]
    assert set(first) == set(pool)  # all numbers get a share


def test_retry_delays_grow_with_jitter_and_a_cap() -> None:
    rng = random.Random(1)
    delays = [retry_delay(n, rng) for n in range(1, 10)]
    assert 0.5 <= delays[0] <= 1.0
    assert all(d <= 60 for d in delays)
    assert delays[5] > delays[0]
