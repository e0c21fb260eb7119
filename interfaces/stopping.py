"""Stopping a process: SIGTERM (docker stop, systemd, `timeout`) does exactly what Ctrl-C does.

The first SIGTERM or SIGINT asks the process to stop; the command then stops its parts
in order (API, dispatcher, projection follower, pools, embedded PostgreSQL). Signals that
arrive while it stops are noted and otherwise ignored: a second Ctrl-C must not cut the
dispatcher off before it records its answers, nor leave the database running.
"""

import itertools
import signal
import threading
from collections.abc import Callable
from types import FrameType

import structlog

log = structlog.get_logger()

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopRequest:
    """Set once, by the first stop signal; what must happen then registers with `on_stop`."""

    def __init__(self) -> None:
        self._requested = threading.Event()
        self._signals = itertools.count()
        self._callbacks: list[Callable[[], None]] = []

    @classmethod
    def on_signals(cls) -> "StopRequest":
        """A request that SIGTERM and SIGINT make (install it from the main thread, first)."""
        request = cls()
        for sig in SIGNALS:
            signal.signal(sig, request._on_signal)
        return request

    @property
    def requested(self) -> bool:
        return self._requested.is_set()

    def on_stop(self, callback: Callable[[], None]) -> None:
        """Call `callback` when a stop is requested, or now if it already was. No lock: the
        signal handler may run inside this very call, so a callback can run twice and must
        be idempotent (setting a flag)."""
        self._callbacks.append(callback)
        if self._requested.is_set():
            callback()

    def request(self) -> None:
        self._requested.set()
        for callback in list(self._callbacks):
            callback()

    def wait(self) -> None:
        self._requested.wait()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        # A second signal's handler can run inside this one (between any two bytecodes, say
        # while logging), before the request is set: next() on a count is one C call, so
        # exactly one handler sees 0, whatever the nesting.
        if next(self._signals) > 0 or self.requested:
            log.info("already_stopping", signal=name)
            return
        log.info("stopping", signal=name)
        self.request()
