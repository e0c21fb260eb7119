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
        if awaits_answer and self.awaiting_reply_since is None:
            self.awaiting_reply_since = received_at
