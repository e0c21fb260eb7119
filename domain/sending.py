"""Rules of sending: which number of a pool a phone gets, retry backoff, and how Twilio's
answers and callback statuses map to Herald's terms."""

import random
import zlib
from collections.abc import Sequence

from domain.status import RecipientStatus

# Callback statuses Herald tracks; Twilio's intermediate ones (accepted, sending, ...) are
# kept in the history but map to the status the message already has at least.
CALLBACK_STATUS = {
    "accepted": RecipientStatus.PENDING,
    "scheduled": RecipientStatus.PENDING,
    "queued": RecipientStatus.QUEUED,
    "sending": RecipientStatus.QUEUED,
    "sent": RecipientStatus.SENT,
    "delivered": RecipientStatus.DELIVERED,
    "undelivered": RecipientStatus.UNDELIVERED,
    "failed": RecipientStatus.FAILED,
    "canceled": RecipientStatus.FAILED,
}


def callback_status(twilio_status: str) -> RecipientStatus:
    """The Herald status a Twilio status callback reports; one Herald does not track (or
    does not know) reports nothing beyond pending, so it never moves a message."""
    return CALLBACK_STATUS.get(twilio_status, RecipientStatus.PENDING)


OPT_OUT_ERROR = 21610
# Failures worth re-sending later (POST .../retry): throttling, queue overflow, Twilio
# faults, an unreachable handset, an unknown error. Never a delivered or opted-out one.
RETRYABLE_ERRORS = frozenset({20429, 20500, 30001, 30003, 30008})
# The statuses such a failure leaves a recipient in.
RETRYABLE_STATUSES = frozenset({RecipientStatus.FAILED, RecipientStatus.UNDELIVERED})


def is_retryable(status: RecipientStatus, error_code: int | None) -> bool:
    """Whether a recipient is sent to again by a retry (the read models ask the same in SQL,
    with RETRYABLE_STATUSES and RETRYABLE_ERRORS as parameters)."""
    return status in RETRYABLE_STATUSES and error_code in RETRYABLE_ERRORS


def sender_for(phone: str, pool: Sequence[str]) -> str:
    """The pool's number for this phone: stable, so a phone always hears from one number."""
    if len(pool) == 1:
        return pool[0]
    return pool[zlib.crc32(phone.encode()) % len(pool)]


def retry_delay(attempt: int, rng: random.Random, base: float = 1.0, cap: float = 60.0) -> float:
    """Exponential backoff with full jitter between half and all of the step."""
    step = min(cap, base * 2 ** max(0, attempt - 1))
    return step * (0.5 + rng.random() / 2)
