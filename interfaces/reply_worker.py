"""The reply worker: runs in every dispatcher process (interfaces/dispatcher.py schedules
`tick` every 0.5 s and `sweep` every 10 s). Each tick claims conversations whose replies
await an answer and asks their responders on a small thread pool, so one slow responder
never holds up another's answer, nor the dispatcher's submissions. What is claimed is
recorded (application/replies.py), so several dispatchers answer each reply once.
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID

import structlog

from application.replies import Claim, Replies

log = structlog.get_logger()

TICK_EVERY = 0.5  # seconds
SWEEP_EVERY = 10.0
WORKERS = 4  # responders asked at once by one dispatcher


class ReplyWorker:
    def __init__(self, replies: Replies, workers: int = WORKERS) -> None:
        self.replies = replies
        self.workers = workers
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="reply")
        self._busy: set[UUID] = set()
        self._lock = threading.Lock()
        self._stopping = False

    def tick(self) -> int:
        """Claim what awaits an answer, as many as there are free workers; how many."""
        with self._lock:
            free = self.workers - len(self._busy)
            busy = set(self._busy)
        if free <= 0 or self._stopping:
            return 0
        started = 0
        for conversation_id in self.replies.due(limit=free + len(busy)):
            if started >= free:
                break
            if conversation_id in busy:
                continue
            claim = self.replies.claim(conversation_id)
            if claim is None:
                continue
            with self._lock:
                self._busy.add(conversation_id)
            self._pool.submit(self._answer, claim)
            started += 1
        return started

    def _answer(self, claim: Claim) -> None:
        conversation_id = str(claim.conversation_id)
        try:
            outcome = self.replies.answer(claim)
            log.info("reply_answered", conversation_id=conversation_id, outcome=outcome)
        except Exception as error:
            log.exception("reply_answer_failed", conversation_id=conversation_id)
            try:  # recorded once, like any failure; else the sweep records it abandoned
                self.replies.fail(claim, "internal_error", f"{type(error).__name__}: {error}")
            except Exception:
                log.exception("reply_failure_unrecorded", conversation_id=conversation_id)
        finally:
            with self._lock:
                self._busy.discard(claim.conversation_id)

    def sweep(self) -> int:
        return self.replies.give_up_abandoned()

    def busy(self) -> int:
        with self._lock:
            return len(self._busy)

    def stop(self) -> None:
        """Claim nothing more; let the answers being written finish and be recorded."""
        self._stopping = True
        self._pool.shutdown(wait=True)
