"""Conversation: one aggregate per (account, our sender number, phone), holding what the
phone sent us.

Outbound messages stay `Message` aggregates (a campaign's 100,000 messages are not copied
here): the thread is those messages (from the number to the phone) and this aggregate's
`MessageReceived` events, in time order. Each inbound message records its keyword, decided
by domain/keywords.py, and the last outbound message it answers. Twilio retries a webhook
it got no answer to, so a SID already received is not recorded again.

The agent's answers to replies (responders) add their own events here: a reply that is
not a keyword leaves the conversation `awaiting_reply_since` its time, until an answer
(or its failure) is recorded.
"""

import re
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidTransition
from domain.keywords import Classification, Keyword
from domain.text import MESSAGE_CHARS, escaped

PHONE_CHARS = 40  # what is kept of a `From` that is not a phone number (a short code, junk)
# What a received body may not hold as it is: control characters other than tab and line
# breaks, and lone surrogates (the read models could not store them).
_UNSTORABLE_IN_BODY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def stored_body(body: str) -> str:
    """A received body as it is recorded: whatever came (Twilio does not check what a phone
    sends), cut to Twilio's 1,600 characters, anything unstorable as `\\uXXXX`."""
    kept = body if len(body) <= MESSAGE_CHARS else body[:MESSAGE_CHARS] + "…"
    return _UNSTORABLE_IN_BODY.sub(lambda found: f"\\u{ord(found.group()):04x}", kept)


def stored_phone(phone: str) -> str:
    """A `From` as it is recorded: an E.164 number is kept as it is, junk made storable."""
    return escaped(phone, PHONE_CHARS)


def conversation_id(account_id: UUID, number: str, phone: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"herald:conversation:{account_id}:{number}:{phone}")


class Conversation(Aggregate):
    @event("Started")
    def __init__(self, account_id: UUID, agent_id: UUID, number: str, phone: str) -> None:
        """`agent_id`: the agent owning `number` when the phone first wrote to it."""
        self.account_id = account_id
        self.agent_id = agent_id
        self.number = number
        self.phone = phone
        self.received_sids: set[str] = set()
        self.last_inbound_at: datetime | None = None
        self.awaiting_reply_since: datetime | None = None
        self.last_reply_at: datetime | None = None  # the newest reply for the agent to answer
        self.answer_request: UUID | None = None  # an answer being written (AnswerRequested)
        self.answering_up_to: datetime | None = None  # the newest reply it answers

    @staticmethod
    def create_id(account_id: UUID, agent_id: UUID, number: str, phone: str) -> UUID:
        return conversation_id(account_id, number, phone)

    def has_received(self, twilio_sid: str) -> bool:
        return twilio_sid in self.received_sids

    def receive(
        self,
        twilio_sid: str,
        body: str,
        received_at: datetime,
        classification: Classification,
        in_reply_to: UUID | None,
    ) -> bool:
        """Record an inbound message; False (nothing recorded) when its SID already was."""
        if self.has_received(twilio_sid):
            return False
        self._received(
            account_id=self.account_id,
            agent_id=self.agent_id,
            number=self.number,
            phone=self.phone,
            twilio_sid=twilio_sid,
            body=body,
            received_at=received_at,
            kind=classification.keyword.value,
            keyword=classification.word,
            in_reply_to=in_reply_to,
            # Only a reply is for the agent to answer; keywords are answered by Herald.
            awaits_answer=classification.keyword is Keyword.REPLY,
        )
        return True

    @event("MessageReceived")
    def _received(
        self,
        account_id: UUID,
        agent_id: UUID,
        number: str,
        phone: str,
        twilio_sid: str,
        body: str,
        received_at: datetime,
        kind: str,
        keyword: str,
        in_reply_to: UUID | None,
        awaits_answer: bool,
    ) -> None:
        """Each event names its account, agent, number and phone, so the projection and an
        auditor read it on its own. `kind`: a `Keyword` value ("opt_out", "reply"…);
        `keyword`: the normalised word ("STOP"), "" for a reply. `awaits_answer`: the
        agent's responder is to answer it."""
        self.received_sids.add(twilio_sid)
        self.last_inbound_at = received_at
        if awaits_answer:
            self.last_reply_at = received_at
            if self.awaiting_reply_since is None:
                self.awaiting_reply_since = received_at

    # The agent's answer (application/replies.py): first requested, naming the newest reply
    # it answers, so that two dispatchers never answer the same replies (the second
    # request's version conflicts); then sent or failed, once. A reply received meanwhile
    # leaves the conversation awaiting an answer of its own.

    def request_answer(self, request_id: UUID, responder: str, by: str, at: datetime) -> None:
        if self.awaiting_reply_since is None or self.last_reply_at is None:
            raise InvalidTransition("no reply awaits an answer")
        if self.answer_request is not None:
            raise InvalidTransition("an answer is being written already")
        self._answer_requested(
            request_id=request_id, responder=responder, up_to=self.last_reply_at, by=by, at=at
        )

    @event("AnswerRequested")
    def _answer_requested(
        self, request_id: UUID, responder: str, up_to: datetime, by: str, at: datetime
    ) -> None:
        """`up_to`: when the newest reply it answers was received; `by`: the dispatcher."""
        self.answer_request = request_id
        self.answering_up_to = up_to

    def answer_sent(
        self, request_id: UUID, message_id: UUID, turns: int, omitted: int, at: datetime
    ) -> None:
        """The answer is the single `Message` `message_id`, recorded with this event."""
        self._check_request(request_id)
        self._answer_sent(
            request_id=request_id,
            message_id=message_id,
            turns=turns,
            omitted=omitted,
            at=at,
            awaiting_reply_since=self._awaiting_after_answer(),
        )

    @event("AnswerSent")
    def _answer_sent(
        self,
        request_id: UUID,
        message_id: UUID,
        turns: int,
        omitted: int,
        at: datetime,
        awaiting_reply_since: datetime | None,
    ) -> None:
        """`turns`: the thread's messages the responder was sent; `omitted`: older ones
        left out. `awaiting_reply_since`: a reply that came meanwhile still awaits."""
        self._answered(awaiting_reply_since)

    def answer_failed(self, request_id: UUID, code: str, reason: str, at: datetime) -> None:
        """No answer: the replies stay recorded, and are not asked about again (a later reply
        asks anew, with the whole thread)."""
        self._check_request(request_id)
        self._answer_failed(
            request_id=request_id,
            code=code,
            reason=reason,
            at=at,
            awaiting_reply_since=self._awaiting_after_answer(),
        )

    @event("AnswerFailed")
    def _answer_failed(
        self,
        request_id: UUID,
        code: str,
        reason: str,
        at: datetime,
        awaiting_reply_since: datetime | None,
    ) -> None:
        """`code`: timeout, connection_failed, http_error, unusable_answer, empty_answer,
        recipient_opted_out, not_sendable, not_configured, too_old, internal_error or
        abandoned; `reason` in words."""
        self._answered(awaiting_reply_since)

    def _check_request(self, request_id: UUID) -> None:
        if self.answer_request != request_id:
            raise InvalidTransition("this answer is no longer awaited")

    def _awaiting_after_answer(self) -> datetime | None:
        """The newest reply's time, when it came after those answered; else None."""
        newer = (
            self.last_reply_at is not None
            and self.answering_up_to is not None
            and self.last_reply_at > self.answering_up_to
        )
        return self.last_reply_at if newer else None

    def _answered(self, awaiting_reply_since: datetime | None) -> None:
        self.answer_request = None
        self.answering_up_to = None
        self.awaiting_reply_since = awaiting_reply_since
