"""Recipient and campaign statuses, their order, and how they are counted (the seed's table)."""

from enum import StrEnum


class RecipientStatus(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SUPPRESSED = "suppressed"


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


# A status only moves forward: pending < queued < sent < any final status. The read
# models apply the same order in SQL, with a function generated from this table
# (projections/projector.py, status_rank_sql).
RANK: dict[RecipientStatus, int] = {
    RecipientStatus.PENDING: 0,
    RecipientStatus.QUEUED: 1,
    RecipientStatus.SENT: 2,
    RecipientStatus.DELIVERED: 3,
    RecipientStatus.UNDELIVERED: 3,
    RecipientStatus.FAILED: 3,
    RecipientStatus.CANCELLED: 3,
    RecipientStatus.SUPPRESSED: 3,
}

FINAL = frozenset(s for s, rank in RANK.items() if rank == max(RANK.values()))


def moves_forward(current: RecipientStatus, new: RecipientStatus) -> bool:
    """True when `new` is later than `current`; a final status never changes."""
    return RANK[new] > RANK[current]


# The seed's counting rules: which recipient statuses each count adds up.
COUNT_BUCKETS: dict[str, tuple[RecipientStatus, ...]] = {
    "delivered_count": (RecipientStatus.DELIVERED,),
    "failed_count": (RecipientStatus.FAILED, RecipientStatus.UNDELIVERED, RecipientStatus.SENT),
    "pending_count": (RecipientStatus.PENDING, RecipientStatus.QUEUED),
    "cancelled_count": (RecipientStatus.CANCELLED,),
    "suppressed_count": (RecipientStatus.SUPPRESSED,),
}


def counts_from(status_counts: dict[str, int]) -> dict[str, int]:
    """The seed's counts, derived from one count per recipient status."""
    counts = {
        name: sum(status_counts.get(status, 0) for status in statuses)
        for name, statuses in COUNT_BUCKETS.items()
    }
    counts["total_count"] = sum(status_counts.values())
    return counts


CANCELLABLE = frozenset(
    {CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.PAUSED}
)
