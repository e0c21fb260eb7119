"""A replay's batches read and decoded one step ahead of the batch being applied.

A rebuild spends about as long reading and decoding the log as writing the read models
(docs/benchmarks.md). The two overlap here: a thread reads the next batch on a connection
of its own and decodes it while PostgreSQL executes the current batch's writes (psycopg
lets go of the GIL while it waits). Only events below a settled position are read: they
are committed and never change, so reading them early reads what reading them later would.
"""

import gc
import queue
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql

AHEAD = 2  # batches decoded and waiting: enough to cover one slow read


def read_ahead(
    conninfo: str,
    select: sql.Composed,
    start: int,
    until: int,
    batch_size: int,
    decode: Callable[[Sequence[Any]], list[tuple[Any, Any]]],
) -> Generator[list[tuple[Any, Any]], None, None]:
    """The decoded batches of the events after `start` up to `until`, in order. `select`
    takes (after, until, limit), as the projector's does."""
    ready: queue.Queue[list[tuple[Any, Any]] | BaseException | None] = queue.Queue(AHEAD)
    stop = threading.Event()

    def hand_over(item: list[tuple[Any, Any]] | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        position = start
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                while position < until:
                    rows = conn.execute(select, (position, until, batch_size)).fetchall()
                    if not rows:
                        break
                    position = rows[-1][0]
                    if not hand_over(decode(rows)):
                        return
        except BaseException as error:  # handed to the caller, raised there
            hand_over(error)
            return
        hand_over(None)

    reader = threading.Thread(target=read, name="replay-read-ahead", daemon=True)
    reader.start()
    try:
        while (item := ready.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for a replay. A replay allocates millions of
    objects (events, rows, dicts) that live for a batch, and the collector, counting
    allocations, walks the batches in hand over and over: a quarter of a rebuild's time
    (docs/benchmarks.md). They form no cycles: reference counting frees each batch as it
    goes, so memory does not grow while it is off."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
