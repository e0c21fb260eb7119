import math

from hypothesis import given
from hypothesis import strategies as st

from domain.pacing import SlidingWindow


def test_mps_submissions_may_go_at_once_and_the_next_waits_a_second_after_the_first_answer() -> (
    None
):
    window = SlidingWindow()
    entries = [window.sending(1) for _ in range(3)]
    for entry in entries:
        SlidingWindow.answered(entry, 0.2)
    assert window.earliest(0.3, 1, 3) == 0.2 + SlidingWindow.LENGTH


def test_a_submission_in_flight_keeps_counting_until_it_is_answered() -> None:
    window = SlidingWindow()
    entry = window.sending(1)
    assert math.isinf(window.earliest(100.0, 1, 1))  # wait for the answer
    assert len(window.entries) == 1 and math.isinf(window.entries[0][0])
    SlidingWindow.answered(entry, 100.0)
    assert window.earliest(100.5, 1, 1) == 100.0 + SlidingWindow.LENGTH


@given(st.integers(1, 20), st.lists(st.floats(0.0, 0.05), min_size=5, max_size=60))
def test_starting_each_submission_when_allowed_never_puts_more_than_mps_in_a_second(
    mps: int, latencies: list[float]
) -> None:
    window = SlidingWindow()
    now, starts = 0.0, []
    for latency in latencies:
        now = window.earliest(now, 1, mps)
        entry = window.sending(1)
        starts.append(now)
        SlidingWindow.answered(entry, now + latency)
    for first in starts:
        assert sum(1 for t in starts if first <= t < first + 1.0) <= mps
