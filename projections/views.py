"""The shapes in which the read models are served: the seed's fields plus Herald's."""

from datetime import datetime
from typing import Any

import msgspec


class Cost(msgspec.Struct):
    amount: str
    currency: str


class RecipientView(msgspec.Struct):
    index: int
    phone: str
    variables: dict[str, Any]
    status: str
    twilio_sid: str | None
    error_code: int | None
    error_message: str | None
    message_id: str
    updated_at: datetime


class CampaignView(msgspec.Struct, kw_only=True):
    campaign_id: str
    name: str
    status: str
    paused_reason: str | None
    total_count: int
    delivered_count: int
    failed_count: int
    pending_count: int
    cancelled_count: int
    suppressed_count: int
    source: str
    status_counts: dict[str, int]
    agent_id: str
    from_numbers: list[str]
    created_at: datetime
    scheduled_at: datetime | None
    segments_total: int
    estimated_cost: Cost
    estimated_completion_at: datetime | None
    held_until: datetime | None  # its due recipients wait for quiet hours to end, until then
    duplicates_removed: int
    skipped_count: int
    warnings: list[str]


class CreatedCampaignView(CampaignView, kw_only=True):
    skipped: list[dict[str, Any]]
    no_opt_in_count: int = 0  # suppressed: no opt-in record, which the account requires
    no_opt_in: list[str] = msgspec.field(default_factory=list)


class CampaignDetailView(CampaignView, kw_only=True):
    recipients: list[RecipientView]
    next_cursor: str | None


class RecipientPage(msgspec.Struct):
    recipients: list[RecipientView]
    next_cursor: str | None


class CampaignPage(msgspec.Struct):
    campaigns: list[CampaignView]
    next_cursor: str | None


class ThreadEntry(msgspec.Struct):
    direction: str  # outbound (a message Herald sent) or inbound (one the phone sent)
    body: str
    at: datetime
    twilio_sid: str | None
    status: str  # an outbound message's status; "received" for an inbound one
    message_id: str | None = None  # an outbound message's id
    kind: str | None = None  # an inbound message's: opt_out, opt_in, help, reply


class MessageView(msgspec.Struct, kw_only=True):
    message_id: str
    status: str
    to: str
    from_number: str
    agent_id: str
    campaign_id: str | None
    body: str
    segments: int
    encoding: str
    twilio_sid: str | None
    error_code: int | None
    error_message: str | None
    created_at: datetime
    queued_at: datetime | None
    sent_at: datetime | None
    delivered_at: datetime | None
    undelivered_at: datetime | None
    failed_at: datetime | None
    updated_at: datetime
    deferred_until: datetime | None
    attempts: int
    conversation: list[ThreadEntry]


class QuietHoursView(msgspec.Struct):
    start: str  # "21:00", in each recipient's local time
    end: str


class AccountView(msgspec.Struct):
    account_id: str
    name: str
    quiet_hours: QuietHoursView | None  # None: off


class ResponderView(msgspec.Struct):
    kind: str  # none (replies are stored only), webhook or openai
    url: str | None  # a webhook's


class AgentView(msgspec.Struct):
    agent_id: str
    name: str
    system_prompt: str
    phone_numbers: list[str]
    created_at: datetime
    responder: ResponderView


class NumberView(msgspec.Struct):
    number_id: str
    phone_number: str
    agent_id: str
    mps: int
    created_at: datetime
