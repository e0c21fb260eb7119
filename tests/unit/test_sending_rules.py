import random

from domain.sending import retry_delay, sender_for


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
