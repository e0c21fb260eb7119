"""When a campaign's last segment will have been submitted, estimated before it is sent.

Segments go out at the sender numbers' pace (their `mps` added up) and a recipient's
messages wait while the account's quiet hours hold in the recipient's zones; recipients
whose zones are open are sent to meanwhile. Recipients are grouped by their zones, so the
estimate walks from one change (a zone entering or leaving quiet hours) to the next
rather than message by message.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta

from domain.quiet_hours import QuietHours

Zones = tuple[str, ...]

# Changes walked before giving up: a one-minute window a day, sending for over a decade.
MAX_CHANGES = 10_000


def completion_at(
    start: datetime,
    segments_by_zones: Mapping[Zones, int],
    mps: int,
    quiet_hours: QuietHours | None,
) -> datetime | None:
    """When the last segment is submitted if sending starts at `start`; None when no
    number can send (`mps` 0) or the estimate runs past MAX_CHANGES."""
    remaining = {zones: float(n) for zones, n in segments_by_zones.items() if n > 0}
    if not remaining:
        return start
    if mps <= 0:
        return None
    if quiet_hours is None:
        return start + timedelta(seconds=sum(remaining.values()) / mps)
    moment = start
    for _ in range(MAX_CHANGES):
        held = {z: until for z in remaining if (until := quiet_hours.held_until(z, moment))}
        open_zones = [z for z in remaining if z not in held]
        if not open_zones:
            moment = min(held.values())
            continue
        # Zones of () (a phone whose zone is unknown) are never held.
        changes = [quiet_hours.begins(z, moment) for z in open_zones if z] + list(held.values())
        change = min(changes, default=None)
        needed = sum(remaining[z] for z in open_zones)
        capacity = needed if change is None else (change - moment).total_seconds() * mps
        if needed <= capacity:
            moment += timedelta(seconds=needed / mps)
            for zones in open_zones:
                del remaining[zones]
            if not remaining:
                return moment
            continue
        for zones in open_zones:  # the window closes before they are all sent
            sent = min(remaining[zones], capacity)
            remaining[zones] -= sent
            capacity -= sent
        assert change is not None
        moment = change
    return None
