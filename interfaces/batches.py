"""Batches: items put from any thread, handled a batch at a time on a thread of their own.

A transaction per item tops out near a thousand a second (the event store serialises
writes), so items are gathered for a moment and handled together (group commit): the
dispatcher's answers from Twilio, the API's status callbacks.
"""

import queue
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

IDLE_WAIT = 0.05  # seconds between looks at `stop` while nothing comes


class Batches(Generic[T]):
    def __init__(self, name: str, gather_seconds: float, max_size: int | None = None) -> None:
        self.name = name
        self.gather_seconds = gather_seconds
        self.max_size = max_size
        self._queue: queue.Queue[T] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def put(self, item: T) -> None:
        self._queue.put(item)

    def take(self, limit: int | None = None) -> list[T]:
        """The items waiting now, up to `limit`, without waiting for more."""
        taken: list[T] = []
        while limit is None or len(taken) < limit:
            try:
                taken.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return taken

    def start(self, handle: Callable[[list[T]], None], stop: threading.Event | None = None) -> None:
        """Hand each batch to `handle` on a daemon thread (one started unless one runs)
        until `stop` is set; `handle` deals with its own errors (one it raises ends the
        thread, which the next `start` replaces)."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, args=(handle, stop), name=self.name, daemon=True
                )
                self._thread.start()

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    def _run(self, handle: Callable[[list[T]], None], stop: threading.Event | None) -> None:
        while stop is None or not stop.is_set():
            try:
                first = self._queue.get(timeout=None if stop is None else IDLE_WAIT)
            except queue.Empty:
                continue
            time.sleep(self.gather_seconds)  # let a batch gather
            rest = None if self.max_size is None else self.max_size - 1
            handle([first, *self.take(rest)])
