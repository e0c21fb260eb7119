"""When a campaign may be scheduled: in the future, and at most `MAX_SCHEDULE_AHEAD` ahead.

Python's `datetime` stops at year 9999 (PostgreSQL's `timestamptz` much later): a time near
that end, or one whose offset carries it past either end when converted to UTC, could be
recorded but not compared, projected or added to. Two years is further ahead than any
campaign is planned, and keeps every later sum (ETA, retries) far from the edge.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MAX_SCHEDULE_AHEAD = timedelta(days=2 * 365)


@dataclass(frozen=True, slots=True)
class ScheduleProblem:
    code: str
    reason: str


def in_utc(at: datetime) -> datetime | None:
    """`at` in UTC, or None when its offset carries it outside what `datetime` holds."""
    try:
        return at.astimezone(UTC)
    except OverflowError:
        return None


def schedule_problem(at: datetime, now: datetime) -> ScheduleProblem | None:
    """None when a campaign may be scheduled at `at`, else why not."""
    if at.tzinfo is None:
        return ScheduleProblem(
            "invalid_datetime", "must be RFC 3339 with a time zone, like 2026-05-20T09:00:00Z"
        )
    utc = in_utc(at)
    if utc is None:
        return ScheduleProblem("out_of_range", "is outside the range of times Herald can hold")
    if utc <= now:
        return ScheduleProblem("in_past", "must be in the future")
    if utc > now + MAX_SCHEDULE_AHEAD:
        return ScheduleProblem(
            "too_far_ahead", f"must be at most {MAX_SCHEDULE_AHEAD.days} days ahead"
        )
    return None
