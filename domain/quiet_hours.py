"""Quiet hours: a window of the recipient's local time in which nothing is submitted.

An account's policy is a window (by default 21:00-09:00, the seed's rule) or off (None).
A phone's zones come from its number; a number whose country has several zones is in
quiet hours while any of them is, so it waits for the last one to leave them.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

CLOCK_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])", re.ASCII)


class InvalidQuietHours(ValueError):
    pass


def parse_clock_time(value: str) -> time:
    """'HH:MM' on a 24-hour clock, ASCII digits only."""
    match = CLOCK_TIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidQuietHours(f"{value!r} is not a time of day like 21:00")
    return time(int(match[1]), int(match[2]))


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise InvalidQuietHours("start and end must differ")

    @classmethod
    def parse(cls, start: str, end: str) -> "QuietHours":
        return cls(parse_clock_time(start), parse_clock_time(end))

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def contains(self, local: datetime) -> bool:
        t = local.time()
        if self.start > self.end:  # the window spans midnight
            return t >= self.start or t < self.end
        return self.start <= t < self.end

    def held_until(self, zones: Sequence[str], at: datetime) -> datetime | None:
        """None when no zone of the phone is in quiet hours at `at`, else when the last
        one leaves them."""
        moment = at
        for _ in range(4):  # zones far apart could push each other; a few rounds settle it
            quiet = [z for z in zones if self.contains(moment.astimezone(ZoneInfo(z)))]
            if not quiet:
                return None if moment == at else moment
            moment = max(self._next_end(moment.astimezone(ZoneInfo(z))) for z in quiet)
        return moment

    def begins(self, zones: Sequence[str], at: datetime) -> datetime:
        """The next moment after `at` at which a zone of the phone enters quiet hours: a
        message planned before then must not go after it."""
        return min(_next(at.astimezone(ZoneInfo(z)), self.start) for z in zones)

    def _next_end(self, local: datetime) -> datetime:
        return _next(local, self.end)


def _next(local: datetime, clock_time: time) -> datetime:
    """The first `clock_time` after `local`, in its zone."""
    moment = datetime.combine(local.date(), clock_time, tzinfo=local.tzinfo)
    if moment <= local:
        moment = datetime.combine(local.date() + timedelta(days=1), clock_time, local.tzinfo)
    return moment


DEFAULT_QUIET_HOURS = QuietHours(time(21, 0), time(9, 0))


def held_until(policy: QuietHours | None, zones: Sequence[str], at: datetime) -> datetime | None:
    """When a message to a phone in `zones` may go, if the account's policy holds it at `at`."""
    return None if policy is None else policy.held_until(zones, at)
