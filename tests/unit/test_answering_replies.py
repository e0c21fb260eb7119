"""Answering replies (application/replies.py and the Conversation's answer events) on the
in-memory store: one claim per reply, the answer recorded with its message, failures
recorded once and never retried, opted-out phones never answered."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from application.directory import AddNumber, CreateAgent, SetResponder
from application.ports import ReplyRequest, ResponderFailed, ThreadTurn
from application.replies import Claim, Replies
from application.store import IntegrityError
from domain import ids
from domain.conversation import Conversation
from domain.errors import InvalidTransition
from domain.keywords import read
from domain.message import Message
from domain.quiet_hours import DEFAULT_QUIET_HOURS
from interfaces.bootstrap import Herald
from tests.conftest import FakeReadModels, FixedClock, in_memory

NIGHT = datetime(2026, 11, 26, 22, 30, tzinfo=UTC)  # 22:30 in London: quiet hours
PHONE = "+447111000001"
NUMBER = "+447446466847"


class FakeResponder:
    def __init__(self, answer: object = "See you Tuesday at 10.") -> None:
        self.answer_with = answer
        self.asked: list[tuple[str, str | None, ReplyRequest]] = []

    def answer(self, kind: str, url: str | None, request: ReplyRequest) -> str:
        self.asked.append((kind, url, request))
        if isinstance(self.answer_with, ResponderFailed):
            raise self.answer_with
        return self.answer_with  # type: ignore[return-value]


class FakeReplyQueue:
    """The thread and the awaiting conversations, as the read models would show them."""

    def __init__(self, herald: Herald) -> None:
        self.herald = herald
        self.turns: list[ThreadTurn] = []
        self.awaiting: list[UUID] = []

    def awaiting_answer(self, limit: int) -> list[UUID]:
        return self.awaiting[:limit]

    def answers_requested_before(self, before: datetime, limit: int) -> list[UUID]:
        return self.awaiting[:limit]

    def thread(
        self, account_id: UUID, number: str, phone: str, limit: int
    ) -> tuple[list[ThreadTurn], int]:
        return self.turns[-limit:], len(self.turns)


class World:
    def __init__(self, kind: str = "webhook", answer: object = "See you Tuesday at 10.") -> None:
        self.clock = FixedClock(NIGHT)
        self.read_models = FakeReadModels()
        self.herald = in_memory(clock=self.clock, read_models=self.read_models)
        directory = self.herald.directory
        self.account_id = directory.create_account("Acme Dental")
        self.read_models.quiet[self.account_id] = DEFAULT_QUIET_HOURS
        agent = directory.create_agent(self.account_id, CreateAgent("Reception", "Be kind."))
        self.agent_id = ids.public_id(ids.AGENT, agent)
        directory.add_number(self.account_id, AddNumber(NUMBER, self.agent_id, 1))
        url = "https://agents.example.com/x" if kind == "webhook" else None
        directory.set_responder(self.account_id, self.agent_id, SetResponder(kind, url))
        self.agent = agent
        self.responder = FakeResponder(answer)
        self.queue = FakeReplyQueue(self.herald)
        self.replies = self.replies_named("dispatcher-a")

    def replies_named(self, name: str) -> Replies:
        return Replies(
            self.herald.store,
            self.read_models,
            self.queue,
            self.responder,
            self.herald.sms,
            self.clock,
            name,
            abandon_after=timedelta(seconds=90),
        )

    def receive(self, body: str, at: datetime | None = None, sid: str | None = None) -> UUID:
        at = at or self.clock.now()
        conversation = self.herald.store.find(
            Conversation, Conversation.create_id(self.account_id, self.agent, NUMBER, PHONE)
        ) or Conversation(self.account_id, self.agent, NUMBER, PHONE)
        conversation.receive(sid or f"SM{uuid4().hex}", body, at, read(body, False), None)
        self.herald.store.record(conversation)
        self.queue.turns.append(ThreadTurn("inbound", body, at))
        self.queue.awaiting = [conversation.id]
        return conversation.id

    def conversation(self, conversation_id: UUID) -> Conversation:
        return self.herald.store.get(Conversation, conversation_id, "conversation")

    def last_event(self, conversation_id: UUID) -> Any:
        return list(self.herald.store.repository.event_store.get(conversation_id))[-1]

    def events(self, conversation_id: UUID) -> list[str]:
        store = self.herald.store.repository.event_store
        return [type(e).__qualname__ for e in store.get(conversation_id)]


def test_a_reply_is_answered_once_with_a_message_that_quiet_hours_do_not_hold() -> None:
    world = World()
    conversation_id = world.receive("Can I book Tuesday?")
    claim = world.replies.claim(conversation_id)
    assert claim is not None
    assert world.replies.claim(conversation_id) is None  # already being answered
    assert world.replies.answer(claim) == "sent"
    assert world.events(conversation_id)[-2:] == [
        "Conversation.AnswerRequested",
        "Conversation.AnswerSent",
    ]
    conversation = world.conversation(conversation_id)
    assert conversation.awaiting_reply_since is None and conversation.answer_request is None
    [(kind, url, request)] = world.responder.asked
    assert (kind, url) == ("webhook", "https://agents.example.com/x")
    assert request.system_prompt == "Be kind." and request.thread[-1].body == "Can I book Tuesday?"
    assert request.phone == PHONE and request.sender_number == NUMBER and not request.trimmed
    sent = world.last_event(conversation_id)
    message = world.herald.store.get(Message, sent.message_id, "message")
    assert (message.to, message.from_number, message.body) == (
        PHONE,
        NUMBER,
        "See you Tuesday at 10.",
    )
    assert message.not_before is None  # at 22:30, answering a reply of 22:30: goes now
    assert message.quiet_hours_exempt_until == NIGHT + timedelta(hours=1)
    assert world.replies.claim(conversation_id) is None  # nothing left to answer


def test_two_dispatchers_claiming_the_same_reply_answer_it_once() -> None:
    world = World()
    conversation_id = world.receive("Hello?")
    other = world.replies_named("dispatcher-b")
    stale = world.conversation(conversation_id)  # as b loaded it, before a's claim
    assert world.replies.claim(conversation_id) is not None
    stale.request_answer(uuid4(), "webhook", "dispatcher-b", NIGHT)
    with pytest.raises(IntegrityError):
        world.herald.store.record(stale)
    assert other.claim(conversation_id) is None


def test_an_agent_without_a_responder_is_never_claimed() -> None:
    world = World(kind="none")
    assert world.replies.claim(world.receive("Hello?")) is None
    assert world.responder.asked == []


def test_keywords_are_not_for_the_agent() -> None:
    world = World()
    assert world.replies.claim(world.receive("STOP")) is None
    assert world.replies.claim(world.receive("  help! ")) is None


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (ResponderFailed("timeout", "no answer within 20 s"), "timeout"),
        (ResponderFailed("http_error", "the webhook answered HTTP 500"), "http_error"),
        (ResponderFailed("connection_failed", "refused"), "connection_failed"),
        ("", "empty_answer"),
        ("x" * 1601, "unusable_answer"),
        ("bad\x00", "unusable_answer"),
    ],
)
def test_a_failed_answer_is_recorded_once_and_never_asked_again(answer: object, code: str) -> None:
    world = World(answer=answer)
    conversation_id = world.receive("Hello?")
    claim = world.replies.claim(conversation_id)
    assert claim is not None
    assert world.replies.answer(claim) == code
    assert world.events(conversation_id)[-1] == "Conversation.AnswerFailed"
    failed = world.last_event(conversation_id)
    assert failed.code == code and failed.reason
    assert world.conversation(conversation_id).awaiting_reply_since is None
    for _ in range(3):  # the worker comes round again: nothing to claim
        assert world.replies.claim(conversation_id) is None
    assert len(world.responder.asked) == 1
    # The person's next reply asks anew.
    world.clock.advance(60)
    world.receive("Anyone there?")
    assert world.replies.claim(conversation_id) is not None


def test_a_phone_opted_out_meanwhile_gets_no_answer_and_the_responder_is_not_asked() -> None:
    world = World()
    conversation_id = world.receive("Hello?")
    claim = world.replies.claim(conversation_id)
    assert claim is not None
    world.read_models.opted.add(PHONE)
    assert world.replies.answer(claim) == "recipient_opted_out"
    assert world.responder.asked == []
    assert world.events(conversation_id)[-1] == "Conversation.AnswerFailed"


def test_a_reply_received_while_the_answer_is_written_waits_for_its_own() -> None:
    world = World()
    conversation_id = world.receive("Hello?")
    claim = world.replies.claim(conversation_id)
    assert claim is not None
    world.clock.advance(5)
    world.receive("Are you open Tuesday?")  # while the responder works
    assert world.replies.answer(claim) == "sent"
    conversation = world.conversation(conversation_id)
    assert conversation.awaiting_reply_since == NIGHT + timedelta(seconds=5)
    again = world.replies.claim(conversation_id)
    assert again is not None and world.replies.answer(again) == "sent"
    assert len(world.responder.asked) == 2


def test_an_answer_requested_by_a_dispatcher_that_stopped_is_recorded_abandoned_once() -> None:
    world = World()
    conversation_id = world.receive("Hello?")
    claim = world.replies.claim(conversation_id)
    assert claim is not None
    assert world.replies.give_up_abandoned() == 1
    assert world.events(conversation_id)[-1] == "Conversation.AnswerFailed"
    assert world.replies.give_up_abandoned() == 0
    assert world.replies.answer(claim) == "dropped"  # the late answer is not sent
    assert world.herald.gateway.submissions == []  # type: ignore[attr-defined]


def test_an_outcome_for_another_request_is_refused() -> None:
    world = World()
    conversation_id = world.receive("Hello?")
    assert world.replies.claim(conversation_id) is not None
    conversation = world.conversation(conversation_id)
    with pytest.raises(InvalidTransition):
        conversation.answer_failed(uuid4(), "timeout", "late", NIGHT)
    with pytest.raises(InvalidTransition):
        conversation.request_answer(uuid4(), "webhook", "x", NIGHT)


def test_a_long_thread_is_trimmed_and_the_request_says_so() -> None:
    world = World()
    for i in range(999):
        world.queue.turns.append(
            ThreadTurn("outbound" if i % 2 else "inbound", f"message {i}", NIGHT)
        )
    conversation_id = world.receive("the newest")
    claim = world.replies.claim(conversation_id)
    assert claim is not None and world.replies.answer(claim) == "sent"
    request = world.responder.asked[0][2]
    assert request.trimmed and request.omitted == 950 and len(request.thread) == 50
    assert request.thread[-1].body == "the newest"
    sent = world.last_event(conversation_id)
    assert (sent.turns, sent.omitted) == (50, 950)


def test_an_unprompted_message_in_quiet_hours_is_held_but_an_answer_within_the_hour_is_not() -> (
    None
):
    world = World()
    from application.sms import SendSms

    command = SendSms(world.agent_id, PHONE, NUMBER, "Hi")
    unprompted = world.herald.sms.message(world.account_id, command)
    assert unprompted.not_before == datetime(2026, 11, 27, 9, tzinfo=UTC)
    prompt = world.herald.sms.message(world.account_id, command, answering=NIGHT)
    assert prompt.not_before is None
    stale = world.herald.sms.message(
        world.account_id, command, answering=NIGHT - timedelta(hours=1)
    )
    assert stale.not_before == datetime(2026, 11, 27, 9, tzinfo=UTC)


def test_claim_objects_name_the_request() -> None:
    claim = Claim(uuid4(), uuid4())
    assert claim.request_id != claim.conversation_id


def test_replies_that_waited_over_a_day_are_not_answered() -> None:
    world = World()
    conversation_id = world.receive("Hello?", at=NIGHT - timedelta(hours=25))
    claim = world.replies.claim(conversation_id)
    assert claim is not None
    assert world.replies.answer(claim) == "too_old"
    assert world.responder.asked == []
    assert world.last_event(conversation_id).code == "too_old"
