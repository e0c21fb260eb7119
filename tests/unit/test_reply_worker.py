"""The reply worker's runtime (interfaces/reply_worker.py): no more answers at once than it
has workers, a conversation never asked twice at once, a crash recorded as a failure."""

import threading
from uuid import UUID, uuid4

from application.replies import Claim
from interfaces.reply_worker import ReplyWorker


class FakeReplies:
    def __init__(self, due: list[UUID], crash: bool = False) -> None:
        self.waiting = due
        self.crash = crash
        self.claimed: list[UUID] = []
        self.failed: list[tuple[UUID, str]] = []
        self.release = threading.Event()
        self.started = threading.Semaphore(0)

    def due(self, limit: int) -> list[UUID]:
        return self.waiting[:limit]

    def claim(self, conversation_id: UUID) -> Claim | None:
        self.claimed.append(conversation_id)
        return Claim(conversation_id, uuid4())

    def answer(self, claim: Claim) -> str:
        self.started.release()
        self.release.wait(5)
        if self.crash:
            raise RuntimeError("the database went away")
        return "sent"

    def fail(self, claim: Claim, code: str, reason: str) -> str:
        self.failed.append((claim.conversation_id, code))
        return code

    def give_up_abandoned(self) -> int:
        return 0


def test_a_tick_starts_no_more_answers_than_workers_and_never_one_conversation_twice() -> None:
    conversations = [uuid4() for _ in range(5)]
    replies = FakeReplies(conversations)
    worker = ReplyWorker(replies, workers=2)  # type: ignore[arg-type]
    try:
        assert worker.tick() == 2
        for _ in range(2):
            assert replies.started.acquire(timeout=5)
        assert worker.busy() == 2
        assert worker.tick() == 0  # both workers busy: nothing claimed
        assert replies.claimed == conversations[:2]
    finally:
        replies.release.set()
        worker.stop()
    assert worker.busy() == 0
    assert worker.tick() == 0  # stopped: claims nothing more


def test_an_answer_that_crashes_is_recorded_as_an_internal_error_once() -> None:
    conversation = uuid4()
    replies = FakeReplies([conversation], crash=True)
    replies.release.set()
    worker = ReplyWorker(replies, workers=1)  # type: ignore[arg-type]
    worker.tick()
    worker.stop()
    assert replies.failed == [(conversation, "internal_error")]
