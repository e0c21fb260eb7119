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

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.keywords import Classification, Keyword


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
            keyword=classification.keyword.value,
            keyword_word=classification.word,
            in_reply_to=in_reply_to,
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
        keyword: str,
        keyword_word: str,
        in_reply_to: UUID | None,
    ) -> None:
        """Each event names its account, agent, number and phone, so the projection and an
        auditor read it on its own. `keyword`: a `Keyword` value; `keyword_word`: the
        normalised word ("STOP"), "" for a reply."""
        self.received_sids.add(twilio_sid)
        self.last_inbound_at = received_at
        if keyword == Keyword.REPLY.value and self.awaiting_reply_since is None:
            self.awaiting_reply_since = received_at
