"""Status callbacks: recorded on their Message, many per transaction (group commit).

One `save()` per callback tops out near a thousand a second (the event store serialises
writes), so concurrent callbacks are gathered for a few milliseconds and recorded in one
transaction; each caller waits for its batch to commit before Twilio gets its answer.
"""

import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
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


class StatusCallbacks:
    def __init__(
        self,
        store: EventStore,
        read_models: ReadModels,
        clock: Clock,
        max_batch: int = 500,
        gather_seconds: float = 0.005,
    ) -> None:
        self.store = store
        self.read_models = read_models
        self.clock = clock
        self.max_batch = max_batch
        self.gather_seconds = gather_seconds
        self._queue: queue.Queue[tuple[StatusCallback, Future[bool]]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, callback: StatusCallback) -> "Future[bool]":
        """Record a callback; the future says whether its message exists, once committed."""
        self._ensure_running()
        future: Future[bool] = Future()
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
            deadline = threading.Event()
            deadline.wait(self.gather_seconds)
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._record(batch)
            except Exception as error:
                log.exception("callbacks_failed")
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)

    def _record(self, batch: list[tuple[StatusCallback, "Future[bool]"]]) -> None:
        now = self.clock.now()
        messages: dict[UUID, Message] = {}
        found: list[tuple[StatusCallback, Future[bool]]] = []
        for callback, future in batch:
            message = messages.get(callback.message_id) or self._load(callback.message_id)
            if message is None:
                future.set_result(False)
                continue
            messages[callback.message_id] = message
            self._apply(message, callback, now)
            found.append((callback, future))
        try:
            position = self.store.record(*messages.values()) if messages else 0
        except IntegrityError:
            # The dispatcher recorded an answer on one of them meanwhile: one by one, fresh.
            position = 0
            for callback, _ in found:
                position = max(position, self._record_one(callback, now))
        if position:
            self.read_models.catch_up(until=position)
        for _, future in found:
            future.set_result(True)

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
