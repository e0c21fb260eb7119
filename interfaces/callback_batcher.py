"""The callback batcher: the webhook's status callbacks, recorded many per transaction.

Concurrent callbacks are gathered for a few milliseconds and recorded in one transaction
(application.callbacks); each request waits for its batch to commit before Twilio gets its
answer.
"""

import asyncio
from typing import Any

import structlog

from application.callbacks import Outcome, StatusCallback, StatusCallbacks
from interfaces.batches import Batches

log = structlog.get_logger()

Pending = tuple[StatusCallback, "asyncio.Future[Outcome]"]


class CallbackBatcher:
    def __init__(
        self, callbacks: StatusCallbacks, max_batch: int = 500, gather_seconds: float = 0.002
    ) -> None:
        self.callbacks = callbacks
        self._batches: Batches[Pending] = Batches("callbacks", gather_seconds, max_batch)

    def record(self, callback: StatusCallback) -> "asyncio.Future[Outcome]":
        """Record a callback (from a coroutine); the future says what became of it, once
        the batch holding it is committed."""
        self._batches.start(self._record)
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._batches.put((callback, future))
        return future

    def _record(self, batch: list[Pending]) -> None:
        try:
            outcomes: list[Outcome] | Exception = self.callbacks.record([c for c, _ in batch])
        except Exception as error:
            log.exception("callbacks_failed")
            outcomes = error
        _answer(batch, outcomes)


def _answer(batch: list[Pending], outcomes: list[Outcome] | Exception) -> None:
    """Resolve the batch's futures with one wake-up of each event loop, not one each."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Outcome], Any]]] = {}
    for n, (_, future) in enumerate(batch):
        outcome = outcomes if isinstance(outcomes, Exception) else outcomes[n]
        by_loop.setdefault(future.get_loop(), []).append((future, outcome))
    for loop, answers in by_loop.items():
        loop.call_soon_threadsafe(_resolve, answers)


def _resolve(answers: list[tuple["asyncio.Future[Outcome]", Any]]) -> None:
    for future, outcome in answers:
        if future.done():  # the request was cancelled (client went away)
            continue
        if isinstance(outcome, Exception):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
