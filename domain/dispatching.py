"""The dispatcher's planning and pacing rules: when a leased number may send next, how far
apart its submissions go, how many it may plan, and when a planned one must be kept back.

Times are plain: datetimes for plans, seconds on a monotonic clock for the moment of
submission. Nothing here reads a clock.
"""

from datetime import datetime, timedelta
from enum import Enum

from domain.message import AttemptState, Message

# A submission starts at least this long before the number's lease ends: past the lease,
# another dispatcher may take the number over and reconcile this attempt.
LEASE_SAFETY = 0.5
# A submission starts at least this long before quiet hours begin: the request must reach
# Twilio before then (it takes ~0.1 s here, more on a busy machine).
QUIET_HOURS_SAFETY = 1.0


class KeptBack(Enum):
    """Why a planned submission was never made (it is planned again once due)."""

    LEASE_LOST = "its number's lease ran out first"
    QUIET_HOURS_BEGAN = "quiet hours began first"


def spacing(segments: int, mps: int, margin: float) -> float:
    """Seconds between planned submissions on one number: a little over what its `mps`
    allows, so plans never outrun the sliding window."""
    return segments * (1 + margin) / mps


def lane_start(
    now: datetime, next_in: float, taken_over_ago: float | None, margin: float
) -> datetime:
    """When a just-leased number's next submission may be planned. A number taken over from
    another dispatcher waits a whole window after that one's last chance to send."""
    start = now + timedelta(seconds=next_in)
    if taken_over_ago is None:
        return start
    last_chance = now - timedelta(seconds=taken_over_ago)
    return max(start, last_chance) + timedelta(seconds=1 + margin)


def may_plan(start: datetime, end: datetime, backlog: int, mps: int, horizon: float) -> bool:
    """Whether a number gets more submissions in a plan ending at `end`: not when its last
    plan is not yet submitted (Twilio answers slowly, or the process is starved of CPU),
    so the plan never runs ahead."""
    return start < end and backlog < mps * horizon


def budget(start: datetime, end: datetime, mps: int) -> int:
    """How many recipients a number may take from `start` until the plan ends at `end`."""
    return int((end - start).total_seconds() * mps) + 1


def may_attempt(message: Message) -> bool:
    """A message not yet submitted, or certainly not created and due again (the read
    models lag: one they list may be in flight already)."""
    return message.attempt_state in (AttemptState.NEW, AttemptState.RETRY)


def keep_back(now: float, lease_ends: float, go_before: float) -> KeptBack | None:
    """Why a planned submission must not start at `now`, if it must not: its number's lease
    ends too soon (the process stalled), or quiet hours begin too soon (it was held up by
    the window or the machine)."""
    if now > lease_ends - LEASE_SAFETY:
        return KeptBack.LEASE_LOST
    if now >= go_before - QUIET_HOURS_SAFETY:
        return KeptBack.QUIET_HOURS_BEGAN
    return None
