"""Status callbacks: recorded on their Message, many per transaction (group commit).

One `save()` per callback tops out near a thousand a second (the event store serialises
writes), so concurrent callbacks are gathered for a few milliseconds and recorded in one
transaction; each caller waits for its batch to commit before Twilio gets its answer.
The read models follow a moment later (the process's projection follower wakes on the
insert's NOTIFY): Twilio reads nothing back, and the next batch need not wait for the
last one's projection.

A callback counts only when it is signed with the Twilio credentials of the account that
sent its message (never those its own `AccountSid` names, which any account could put
there): the query that reads the batch's message versions also reads their accounts, so
the check costs no extra roundtrip.
"""

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

from application.ports import Clock, ReadModels
from application.store import EventStore, IntegrityError
from domain.message import Message

log = logging.getLogger("herald.callbacks")


@dataclass(frozen=True)
class StatusCallback:
    message_id: UUID
    status: str
    twilio_sid: str
    error_code: int | None
    error_message: str | None
    # Whether the request is signed with this account's Twilio credentials.
    signed_by: Callable[[UUID], bool]


class Outcome(Enum):
    RECORDED = "recorded"
    UNKNOWN_MESSAGE = "unknown_message"
    NOT_THE_SENDERS = "not_the_senders"  # not signed by the account that sent the message


Pending = tuple[StatusCallback, "asyncio.Future[Outcome]"]


class StatusCallbacks:
    def __init__(
        self,
        store: EventStore,
        read_models: ReadModels,
        clock: Clock,
        max_batch: int = 500,
        gather_seconds: float = 0.002,
    ) -> None:
        self.store = store
        self.read_models = read_models
        self.clock = clock
        self.max_batch = max_batch
        self.gather_seconds = gather_seconds
        self._queue: queue.Queue[Pending] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def record(self, callback: StatusCallback) -> "asyncio.Future[Outcome]":
        """Record a callback (from a coroutine); the future says what became of it, once
        the batch holding it is committed."""
        self._ensure_running()
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.put((callback, future))
        return future

    def _ensure_running(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="callbacks", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            time.sleep(self.gather_seconds)
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                outcomes: list[Outcome] | Exception = self._record(batch)
            except Exception as error:
                log.exception("callbacks_failed")
                outcomes = error
            self._answer(batch, outcomes)

    @staticmethod
    def _answer(batch: list[Pending], outcomes: list[Outcome] | Exception) -> None:
        """Resolve the batch's futures with one wake-up of each event loop, not one each."""
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Outcome], Any]]] = {}
        for n, (_, future) in enumerate(batch):
            outcome = outcomes if isinstance(outcomes, Exception) else outcomes[n]
            by_loop.setdefault(future.get_loop(), []).append((future, outcome))
        for loop, answers in by_loop.items():
            loop.call_soon_threadsafe(_resolve, answers)

    def _record(self, batch: list[Pending]) -> list[Outcome]:
        """One query for the messages' versions and owners, one transaction for all the
        events; what became of each callback, in order."""
        now = self.clock.now()
        latest = self.store.latest_versions(
            list({callback.message_id for callback, _ in batch}), ":Message.Created"
        )
        versions = {message_id: found.version for message_id, found in latest.items()}
        outcomes = []
        accepted = []
        events = []
        for callback, _ in batch:
            found = latest.get(callback.message_id)
            if found is None:
                outcomes.append(Outcome.UNKNOWN_MESSAGE)
                continue
            if found.account_id is None or not callback.signed_by(found.account_id):
                outcomes.append(Outcome.NOT_THE_SENDERS)
                continue
            outcomes.append(Outcome.RECORDED)
            accepted.append(callback)
            version = versions[callback.message_id]
            versions[callback.message_id] = version + 1
            events.append(
                Message.status_report(
                    callback.message_id,
                    version,
                    callback.status,
                    callback.twilio_sid,
                    callback.error_code,
                    callback.error_message,
                    now,
                )
            )
        try:
            if events:
                self.store.record(*events)
        except IntegrityError:
            # The dispatcher recorded an answer on one of them meanwhile: one by one, fresh.
            for callback in accepted:
                self._record_one(callback, now)
        return outcomes

    def _record_one(self, callback: StatusCallback, now: datetime) -> int:
        for _ in range(10):
            message = self._load(callback.message_id)
            assert message is not None
            self._apply(message, callback, now)
            try:
                return self.store.record(message)
            except IntegrityError:
                continue
        raise RuntimeError(f"could not record a callback for {callback.message_id}")

    def _load(self, message_id: UUID) -> Message | None:
        try:
            message: object = self.store.repository.get(message_id)
        except Exception:
            return None
        return message if isinstance(message, Message) else None

    @staticmethod
    def _apply(message: Message, callback: StatusCallback, now: datetime) -> None:
        message.status_reported(
            status=callback.status,
            twilio_sid=callback.twilio_sid,
            error_code=callback.error_code,
            error_message=callback.error_message,
            at=now,
        )


def _resolve(answers: list[tuple["asyncio.Future[Outcome]", Any]]) -> None:
    for future, outcome in answers:
        if future.done():  # the request was cancelled (client went away)
            continue
        if isinstance(outcome, Exception):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
