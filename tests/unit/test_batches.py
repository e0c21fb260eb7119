"""Batches (interfaces.batches): items put from any thread, handled a batch at a time."""

import threading

from interfaces.batches import Batches


def test_items_put_together_are_handled_in_one_batch_in_the_order_put() -> None:
    handled: list[list[int]] = []
    done = threading.Event()
    batches: Batches[int] = Batches("test", gather_seconds=0.05)
    for n in range(5):
        batches.put(n)
    batches.start(lambda batch: (handled.append(batch), done.set()))
    assert done.wait(5)
    assert handled == [[0, 1, 2, 3, 4]]


def test_a_batch_holds_at_most_max_size_items() -> None:
    handled: list[list[int]] = []
    done = threading.Event()
    batches: Batches[int] = Batches("test", gather_seconds=0.0, max_size=2)
    for n in range(5):
        batches.put(n)

    def handle(batch: list[int]) -> None:
        handled.append(batch)
        if sum(map(len, handled)) == 5:
            done.set()

    batches.start(handle)
    assert done.wait(5)
    assert handled == [[0, 1], [2, 3], [4]]


def test_take_hands_over_what_waits_without_waiting_for_more() -> None:
    batches: Batches[str] = Batches("test", gather_seconds=0.0)
    assert batches.take() == []
    batches.put("a")
    batches.put("b")
    assert batches.take() == ["a", "b"]


def test_setting_stop_ends_the_thread_and_leaves_later_items_to_take() -> None:
    stop = threading.Event()
    batches: Batches[int] = Batches("test", gather_seconds=0.0)
    batches.start(lambda batch: None, stop)
    stop.set()
    batches.join(timeout=5)
    batches.put(1)
    assert batches.take() == [1]


def test_a_second_start_while_one_thread_runs_starts_no_other() -> None:
    stop = threading.Event()
    batches: Batches[int] = Batches("only-one", gather_seconds=0.0)
    batches.start(lambda batch: None, stop)
    batches.start(lambda batch: None, stop)
    assert [t.name for t in threading.enumerate()].count("only-one") == 1
    stop.set()
    batches.join(timeout=5)
