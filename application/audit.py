"""Audit: the history of a phone or of a campaign, every event of the account's aggregates
in log order with the facts it records, and the answers to an auditor's two questions: what
consent was held at a given time, and did anything go out after a STOP (domain/audit.py).

A phone's history is its Consent aggregate (one per account and phone), the conversations
with it and every message sent to it; a campaign's is the Campaign, its recipient batches
and its messages. Which aggregates those are is asked of the read models (`AuditIndex`);
their events are read from the event store by id, never by scanning the log.
"""

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, Protocol
from uuid import UUID

import msgspec

from application.errors import NotFound, ValidationFailed, problem
from application.ports import Clock
from application.store import EventStore, Recorded
from domain import ids
from domain.audit import (
    Fact,
    consent_at,
    consent_changes,
    fact_time,
    is_submission,
    sent_after_stop,
)
from domain.campaign import Campaign
from domain.consent import consent_id
from domain.conversation import conversation_id
from domain.phone import E164

PUBLIC_PREFIX = {
    "Account": ids.ACCOUNT,
    "Agent": ids.AGENT,
    "ApiKey": ids.KEY,
    "Campaign": ids.CAMPAIGN,
    "Conversation": ids.CONVERSATION,
    "Message": ids.MESSAGE,
    "SenderNumber": ids.NUMBER,
}
ENVELOPE = ("originator_id", "originator_version", "timestamp", "originator_topic")
MAX_PAGE = 10_000
TIME_CHARS = 64


class AuditIndex(Protocol):
    """Which aggregates a history is made of, as the read models know them."""

    def phone_messages(self, account_id: UUID, phone: str) -> list[UUID]:
        """The account's messages to the phone."""
        ...

    def numbers(self, account_id: UUID) -> list[str]:
        """The account's sender numbers (a conversation is one of them with a phone)."""
        ...

    def campaign_messages(self, campaign_id: UUID) -> list[tuple[UUID, str]]:
        """Each message of the campaign (every retry round) and the phone it went to."""
        ...


class AuditEntry(msgspec.Struct):
    position: int  # in the event log: the order things were recorded in
    time: datetime  # when it was recorded
    aggregate: str  # e.g. "Consent"
    aggregate_id: str
    version: int
    event: str  # e.g. "OptedOut"
    facts: dict[str, Any]  # what the event records, as the domain names it


class ConsentAnswer(msgspec.Struct):
    at: datetime
    status: str  # opted_in (a record of consent), opted_out, or no_record
    since: datetime | None = None  # the time of the change that made it so
    position: int | None = None  # that change's place in the log
    event: str | None = None
    facts: dict[str, Any] | None = None


class SentAfterStop(msgspec.Struct):
    message_id: str
    phone: str
    attempted_at: datetime
    position: int
    opted_out_at: datetime
    opt_out_position: int
    opt_out: dict[str, Any]  # the opt-out's facts: keyword, evidence, SID…


class PhoneAudit(msgspec.Struct):
    account_id: str
    phone: str
    consent: ConsentAnswer
    sent_after_stop: list[SentAfterStop]
    events: list[AuditEntry]


class CampaignAudit(msgspec.Struct):
    account_id: str
    campaign_id: str
    sent_after_stop: list[SentAfterStop]
    events: list[AuditEntry]
    next_after: int | None = None  # more events follow: ask again with after=this


class Audit:
    def __init__(self, store: EventStore, index: AuditIndex, clock: Clock) -> None:
        self.store = store
        self.index = index
        self.clock = clock

    def phone(self, account_id: UUID, phone: str, at: str | None = None) -> PhoneAudit:
        """Every event of the account's aggregates about this phone, in log order; the
        consent held `at` (RFC 3339; a date means the end of that day; default: now)."""
        problems = phone_problems(phone)
        moment, at_problem = _instant("at", at, end_of_day=True)
        problems += at_problem
        if problems:
            raise ValidationFailed("the audit request has invalid fields", problems)
        consent = consent_id(account_id, phone)
        conversations = [
            conversation_id(account_id, n, phone) for n in self.index.numbers(account_id)
        ]
        messages = self.index.phone_messages(account_id, phone)
        aggregates = [consent, *conversations, *messages]
        recorded = self.store.events_of(aggregates)
        history = [_fact(r) for r in recorded]
        changes = consent_changes(f for f in history if f.aggregate_id == consent)
        held = consent_at(changes, moment or self.clock.now())
        return PhoneAudit(
            account_id=ids.public_id(ids.ACCOUNT, account_id),
            phone=phone,
            consent=ConsentAnswer(
                at=moment or self.clock.now(),
                status=held.status,
                since=held.since.time if held.since else None,
                position=held.since.position if held.since else None,
                event=held.since.event if held.since else None,
                facts=json_safe(held.since.facts) if held.since else None,
            ),
            sent_after_stop=_violations(changes, history, {}),
            events=[_entry(r) for r in recorded],
        )

    def campaign(
        self, account_id: UUID | None, campaign: str, after: int = 0, limit: int | None = None
    ) -> CampaignAudit:
        """The campaign's events (its own, its recipient batches', its messages') after log
        position `after`, at most `limit`; and every submission of it made to a phone after
        that phone's opt-out was recorded. Another account's campaign is not found (None:
        an operator's audit, any account's)."""
        campaign_id = ids.parse_public_id(ids.CAMPAIGN, campaign)
        found = self.store.find(Campaign, campaign_id)
        if found is None or account_id not in (None, found.account_id):
            raise NotFound(f"campaign {campaign} not found")
        assert campaign_id is not None
        account_id = found.account_id
        problems: list[dict[str, Any]] = []
        if limit is not None and not 1 <= limit <= MAX_PAGE:
            problems.append(problem("limit", limit, "out_of_range", f"must be 1 to {MAX_PAGE}"))
        if after < 0:
            problems.append(problem("after", after, "out_of_range", "must not be negative"))
        if problems:
            raise ValidationFailed("the audit request has invalid fields", problems)
        messages = self.index.campaign_messages(campaign_id)
        aggregates = [campaign_id, *found.batch_ids(), *(m for m, _ in messages)]
        page = self.store.events_of(aggregates, after, None if limit is None else limit + 1)
        more = limit is not None and len(page) > limit
        page = page[:limit]
        return CampaignAudit(
            account_id=ids.public_id(ids.ACCOUNT, account_id),
            campaign_id=campaign,
            sent_after_stop=self._campaign_violations(account_id, messages),
            events=[_entry(r) for r in page],
            next_after=page[-1].position if more else None,
        )

    def _campaign_violations(
        self, account_id: UUID, messages: Sequence[tuple[UUID, str]]
    ) -> list[SentAfterStop]:
        """Only the phones that ever opted out can have been sent to after it, so only their
        messages' events are read."""
        by_consent = {consent_id(account_id, phone): phone for phone in {p for _, p in messages}}
        opted: dict[str, list[Fact]] = {}
        for recorded in self.store.events_of(list(by_consent)):
            fact = _fact(recorded)
            opted.setdefault(by_consent[fact.aggregate_id], []).append(fact)
        found = []
        for phone, history in opted.items():
            changes = consent_changes(history)
            ids_ = [m for m, p in messages if p == phone]
            sent = [_fact(r) for r in self.store.events_of(ids_)] if changes else []
            found += _violations(changes, sent, {m: phone for m in ids_})
        return sorted(found, key=lambda v: v.position)


def phone_problems(phone: str) -> list[dict[str, Any]]:
    """An audited phone need only be E.164: a phone of a country no longer allowed still
    has a history."""
    if isinstance(phone, str) and len(phone) <= 16 and E164.fullmatch(phone):
        return []
    return [problem("phone", phone, "not_e164", "must be in E.164 format, like +447446466847")]


def _violations(
    changes: Sequence[Fact], history: Iterable[Fact], phones: dict[Any, str]
) -> list[SentAfterStop]:
    history = list(history)
    for fact in history:
        if fact.event == "Message.Created":
            phones.setdefault(fact.aggregate_id, str(fact.facts.get("to")))
    submissions = [f for f in history if is_submission(f)]
    return [
        SentAfterStop(
            message_id=ids.public_id(ids.MESSAGE, found.submission.aggregate_id),
            phone=phones.get(found.submission.aggregate_id, ""),
            attempted_at=found.submission.time,
            position=found.submission.position,
            opted_out_at=found.opt_out.time,
            opt_out_position=found.opt_out.position,
            opt_out=json_safe(found.opt_out.facts),
        )
        for found in sent_after_stop(changes, submissions)
    ]


def _name(event: Any) -> str:
    return type(event).__qualname__  # e.g. "Consent.OptedOut"


def _facts(event: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(event).items() if k not in ENVELOPE}


def event_facts(event: Any) -> dict[str, Any]:
    """What an event records, JSON-safe, as the domain names it (a recipient batch's
    recipients, one JSON string in the event, as the list it holds)."""
    facts = _facts(event)
    if isinstance(facts.get("recipients"), str) and _name(event) == "RecipientBatch.Created":
        facts["recipients"] = msgspec.json.decode(facts["recipients"])
    return json_safe(facts)


def _fact(recorded: Recorded) -> Fact:
    event = recorded.event
    facts = _facts(event)
    return Fact(
        recorded.position,
        _name(event),
        event.originator_id,
        fact_time(facts, event.timestamp),
        facts,
    )


def _entry(recorded: Recorded) -> AuditEntry:
    event = recorded.event
    aggregate, _, name = _name(event).rpartition(".")
    prefix = PUBLIC_PREFIX.get(aggregate)
    uuid = event.originator_id
    return AuditEntry(
        position=recorded.position,
        time=event.timestamp,
        aggregate=aggregate,
        aggregate_id=ids.public_id(prefix, uuid) if prefix else str(uuid),
        version=event.originator_version,
        event=name,
        facts=event_facts(event),
    )


def json_safe(value: Any) -> Any:
    """An event's facts as JSON can carry them: ids and times as strings."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, Enum):
        return json_safe(value.value)
    if isinstance(value, bytes):
        return value.hex()
    try:
        return msgspec.to_builtins(value)
    except TypeError:
        return repr(value)


def parse_instant(field: str, value: str | None, end_of_day: bool = False) -> datetime | None:
    """An RFC 3339 time (with its offset) or date (its start in UTC, or with `end_of_day`
    its last instant); None for None. ValidationFailed names the field and value."""
    moment, problems = _instant(field, value, end_of_day)
    if problems:
        raise ValidationFailed(f"{field} is not a time", problems)
    return moment


def _instant(
    field: str, value: str | None, end_of_day: bool = False
) -> tuple[datetime | None, list[dict[str, Any]]]:
    if value is None:
        return None, []
    wrong = [
        problem(
            field,
            value,
            "invalid_time",
            "must be an RFC 3339 date (2026-11-27) or time with offset (2026-11-27T09:30:00Z)",
        )
    ]
    if not isinstance(value, str) or len(value) > TIME_CHARS or not value.isascii():
        return None, wrong
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime.combine(day, time(0), UTC)
            if end_of_day:
                return start + timedelta(days=1) - timedelta(microseconds=1), []
            return start, []
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        return None, wrong
    if moment.tzinfo is None or moment.utcoffset() is None:
        return None, [
            problem(field, value, "missing_offset", "needs a UTC offset, e.g. Z or +01:00")
        ]
    return moment, []
