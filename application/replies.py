"""The agent's answers to replies: claim a conversation awaiting one, ask the agent's
responder with the thread, and record the answer (a single `Message` the dispatcher sends
like any other) or why there is none.

A claim is the `Conversation.AnswerRequested` event, recorded at the conversation's next
version: of two dispatchers claiming the same replies, one records it and the other's
write conflicts, so replies are answered once. A failure (timeout, HTTP error, garbage,
refused connection, an opted-out phone) is recorded once as `AnswerFailed` and never
retried: the replies stay in the thread, and the person's next reply asks again. An
answer requested by a dispatcher that stopped before recording its outcome is recorded
as failed (`abandoned`) once it is well past the responder's timeout.
"""

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID, uuid4

import structlog

from application.errors import ValidationFailed
from application.ports import (
    Clock,
    ReadModels,
    ReplyQueue,
    ReplyRequest,
    Responder,
    ResponderFailed,
)
from application.sms import SendSms, SingleSms
from application.store import EventStore, IntegrityError
from domain import ids
from domain.agent import Agent
from domain.conversation import Conversation
from domain.errors import InvalidTransition
from domain.message import Message
from domain.replies import (
    THREAD_CHARS,
    THREAD_TURNS,
    ResponderKind,
    Turn,
    Unusable,
    too_old_to_answer,
    trim_thread,
    usable_answer,
)
from domain.text import escaped

log = structlog.get_logger()

RECORD_TRIES = 5
REASON_CHARS = 500  # a reply arriving while an outcome is recorded moves the version on


@dataclass(frozen=True)
class Claim:
    conversation_id: UUID
    request_id: UUID


class Replies:
    def __init__(
        self,
        store: EventStore,
        read_models: ReadModels,
        queue: ReplyQueue,
        responder: Responder,
        sms: SingleSms,
        clock: Clock,
        name: str,
        abandon_after: timedelta,
        max_turns: int = THREAD_TURNS,
        max_chars: int = THREAD_CHARS,
    ) -> None:
        self.store = store
        self.read_models = read_models
        self.queue = queue
        self.responder = responder
        self.sms = sms
        self.clock = clock
        self.name = name
        self.abandon_after = abandon_after
        self.max_turns = max_turns
        self.max_chars = max_chars

    def due(self, limit: int) -> list[UUID]:
        return self.queue.awaiting_answer(limit)

    def claim(self, conversation_id: UUID) -> Claim | None:
        """Record that this dispatcher writes the answer; None when there is nothing to
        answer, no responder, or another dispatcher claimed it first."""
        conversation = self.store.find(Conversation, conversation_id)
        if conversation is None or conversation.awaiting_reply_since is None:
            return None
        if conversation.answer_request is not None:
            return None
        agent = self.store.get(Agent, conversation.agent_id, "agent")
        if agent.responder_kind == ResponderKind.NONE:
            return None
        request_id = uuid4()
        conversation.request_answer(request_id, agent.responder_kind, self.name, self.clock.now())
        try:
            position = self.store.record(conversation)
        except IntegrityError:
            return None  # another dispatcher, or a reply just received: seen next time
        self.read_models.catch_up(until=position)
        return Claim(conversation_id, request_id)

    def answer(self, claim: Claim) -> str:
        """Ask the responder and record the outcome: "sent", or the failure's code."""
        conversation = self.store.get(Conversation, claim.conversation_id, "conversation")
        agent = self.store.get(Agent, conversation.agent_id, "agent")
        phone, number = conversation.phone, conversation.number
        if self.read_models.opted_out(conversation.account_id, [phone]):
            return self.fail(claim, "recipient_opted_out", "the phone has opted out")
        up_to = conversation.answering_up_to
        if up_to is not None and too_old_to_answer(up_to, self.clock.now()):
            reason = f"the newest reply was received at {up_to:%Y-%m-%d %H:%M} UTC, too long ago"
            return self.fail(claim, "too_old", reason)
        turns, total = self.queue.thread(conversation.account_id, number, phone, self.max_turns)
        thread = trim_thread(
            [Turn(t.direction, t.body, t.at) for t in turns],
            self.max_turns,
            self.max_chars,
            total=total,
        )
        request = ReplyRequest(
            agent_id=ids.public_id(ids.AGENT, agent.id),
            conversation_id=ids.public_id(ids.CONVERSATION, conversation.id),
            phone=phone,
            sender_number=number,
            system_prompt=agent.system_prompt,
            thread=turns[len(turns) - len(thread.turns) :],  # the newest, as trimmed
            trimmed=thread.trimmed,
            omitted=thread.omitted,
        )
        try:
            text = self.responder.answer(agent.responder_kind, agent.responder_url, request)
        except ResponderFailed as failed:
            return self.fail(claim, failed.code, failed.reason)
        answer = usable_answer(text)
        if isinstance(answer, Unusable):
            return self.fail(claim, answer.code, f"the answer {answer.reason}")
        command = SendSms(request.agent_id, phone, number, answer)
        for _ in range(RECORD_TRIES):
            try:
                message = self.sms.message(
                    conversation.account_id, command, answering=conversation.answering_up_to
                )
            except ValidationFailed as refused:
                opted_out = any(d["code"] == "recipient_opted_out" for d in refused.details)
                code = "recipient_opted_out" if opted_out else "not_sendable"
                return self.fail(claim, code, _problems(refused))
            outcome = self._record_sent(claim, message, len(thread.turns), thread.omitted)
            if outcome is not None:
                return outcome
        raise RuntimeError(f"could not record the answer to {claim.conversation_id}")

    def _record_sent(self, claim: Claim, message: Message, turns: int, omitted: int) -> str | None:
        """The answer's message and AnswerSent, in one transaction: "sent"; "dropped" when
        the request was recorded as failed meanwhile (abandoned); None on a conflict."""
        conversation = self.store.get(Conversation, claim.conversation_id, "conversation")
        try:
            conversation.answer_sent(claim.request_id, message.id, turns, omitted, self.clock.now())
        except InvalidTransition:
            log.warning("answer_dropped", conversation_id=str(claim.conversation_id))
            return "dropped"
        try:
            position = self.store.record(message, conversation)
        except IntegrityError:
            return None  # a reply was recorded meanwhile: again, from the fresh conversation
        self.read_models.catch_up(until=position)
        return "sent"

    def fail(self, claim: Claim, code: str, reason: str) -> str:
        """Record why no answer goes: once, never retried."""
        log.info("answer_failed", conversation_id=str(claim.conversation_id), code=code)
        reason = escaped(reason, REASON_CHARS)  # it may quote a server's error
        for _ in range(RECORD_TRIES):
            conversation = self.store.get(Conversation, claim.conversation_id, "conversation")
            try:
                conversation.answer_failed(claim.request_id, code, reason, self.clock.now())
            except InvalidTransition:
                return code  # already recorded
            try:
                position = self.store.record(conversation)
            except IntegrityError:
                continue
            self.read_models.catch_up(until=position)
            return code
        raise RuntimeError(f"could not record the failure on {claim.conversation_id}")

    def give_up_abandoned(self, limit: int = 100) -> int:
        """Answers requested long ago by a dispatcher that never recorded their outcome are
        recorded as failed; how many."""
        before = self.clock.now() - self.abandon_after
        count = 0
        for conversation_id in self.queue.answers_requested_before(before, limit):
            conversation = self.store.find(Conversation, conversation_id)
            if conversation is None or conversation.answer_request is None:
                continue
            reason = f"no outcome recorded within {self.abandon_after.total_seconds():g} s"
            self.fail(Claim(conversation_id, conversation.answer_request), "abandoned", reason)
            count += 1
        return count


def _problems(refused: ValidationFailed) -> str:
    return "; ".join(f"{d['field']}: {d['message']}" for d in refused.details)
