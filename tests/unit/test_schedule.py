from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.schedule import MAX_SCHEDULE_AHEAD, schedule_problem

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "code"),
    [
        (datetime(2027, 1, 1), "invalid_datetime"),
        (
            datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(-timedelta(hours=23, minutes=59))),
            "out_of_range",
        ),
        (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=23, minutes=59))), "out_of_range"),
        (datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), "too_far_ahead"),
        (NOW + MAX_SCHEDULE_AHEAD + timedelta(seconds=1), "too_far_ahead"),
        (NOW, "in_past"),
        (NOW - timedelta(days=1), "in_past"),
    ],
)
def test_times_herald_cannot_schedule(at: datetime, code: str) -> None:
    problem = schedule_problem(at, NOW)
    assert problem is not None and problem.code == code


def test_any_time_within_two_years_with_any_offset_can_be_scheduled() -> None:
    offset = timezone(timedelta(hours=-12))
    assert schedule_problem(datetime(2027, 6, 1, 9, 0, tzinfo=offset), NOW) is None
    assert schedule_problem(NOW + MAX_SCHEDULE_AHEAD, NOW) is None
