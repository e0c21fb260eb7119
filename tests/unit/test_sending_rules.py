import random

import pytest

from domain.sending import OPT_OUT_ERROR, callback_status, is_retryable, retry_delay, sender_for
from domain.status import RecipientStatus


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


def test_twilio_callback_statuses_map_to_the_statuses_herald_tracks() -> None:
    assert callback_status("queued") == RecipientStatus.QUEUED
    assert callback_status("sending") == RecipientStatus.QUEUED
    assert callback_status("sent") == RecipientStatus.SENT
    assert callback_status("delivered") == RecipientStatus.DELIVERED
    assert callback_status("undelivered") == RecipientStatus.UNDELIVERED
    assert callback_status("canceled") == RecipientStatus.FAILED


def test_an_intermediate_or_unknown_callback_status_reports_nothing_beyond_pending() -> None:
    assert callback_status("accepted") == RecipientStatus.PENDING
    assert callback_status("receiving") == RecipientStatus.PENDING


@pytest.mark.parametrize("status", list(RecipientStatus))
def test_only_a_failure_with_a_retryable_code_is_sent_again(status: RecipientStatus) -> None:
    failed = status in (RecipientStatus.FAILED, RecipientStatus.UNDELIVERED)
    assert is_retryable(status, 30003) is failed
    assert is_retryable(status, 20429) is failed
    assert not is_retryable(status, OPT_OUT_ERROR)  # an opted-out phone is never retried
    assert not is_retryable(status, None)
