"""The Message aggregate: one SMS to one phone, a single send or a campaign recipient's."""

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.status import RecipientStatus


def campaign_message_id(campaign_id: UUID, index: int) -> UUID:
    """A campaign recipient's message has an id known before it exists."""
    return uuid5(NAMESPACE_URL, f"herald:message:{campaign_id}:{index}")


class Message(Aggregate):
    @event("Created")
    def __init__(
        self,
        id: UUID,
        account_id: UUID,
        agent_id: UUID,
        to: str,
        from_number: str,
        body: str,
        segments: int,
        encoding: str,
        created_at: datetime,
        campaign_id: UUID | None = None,
        recipient_index: int | None = None,
    ) -> None:
        self.account_id = account_id
        self.to = to
        self.from_number = from_number
        self.body = body
        self.segments = segments
        self.campaign_id = campaign_id
        self.recipient_index = recipient_index
        self.status = RecipientStatus.PENDING
