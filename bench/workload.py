"""A store of many real events, made fast: campaigns created through the use case, then each
recipient's message recorded as the dispatcher and the status callbacks record it (created
by its first attempt, queued with a SID, sent, then delivered, undelivered or rejected), in
the order they record it: a chunk of recipients' attempts in one transaction, then their
answers, then each round of callbacks; opt-outs and opt-ins among the phones.

The events are the domain's own (the same aggregates, the same mapper), so the read models
and the audit see exactly what a dispatched campaign leaves, without spending minutes on
pacing. Used by bench/rebuild.py and bench/audit.py.
"""

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from application.campaign_checks import CreateCampaign, RecipientIn
from application.directory import AddNumber, CreateAgent
from domain import ids
from domain.message import Message, campaign_message_id
from interfaces.bootstrap import Herald

# A range no test or other bench imports (tests/integration/test_rebuild_fold.py fills a
# session database with this workload, beside the e2e tests' pools).
NUMBERS = [f"+4474468{n:05d}" for n in range(20)]
SAVE_EVERY = 500  # aggregates per transaction


def phone(n: int) -> str:
    return f"+4471{n:08d}"


def tenant(herald: Herald) -> tuple[UUID, str]:
    account = herald.directory.create_account("bench")
    herald.directory.set_quiet_hours(account, None)
    agent = ids.public_id(ids.AGENT, herald.directory.create_agent(account, CreateAgent("a", "")))
    for number in NUMBERS:
        herald.directory.add_number(account, AddNumber(number, agent, 10))
    return account, agent


def fill(
    herald: Herald,
    recipients: int,
    per_campaign: int = 25_000,
    phones: int | None = None,
    project: bool = True,
) -> dict[str, Any]:
    """Record campaigns to `recipients` recipients in all (phones drawn from `phones`
    distinct ones, so a phone gets several campaigns' messages), with every message's
    events; project them unless told not to. Returns what was made."""
    started = time.perf_counter()
    account, agent = tenant(herald)
    agent_id = ids.parse_public_id(ids.AGENT, agent)
    assert agent_id is not None
    distinct = phones or recipients
    store = herald.store
    at = datetime(2026, 11, 2, 10, tzinfo=UTC)
    campaigns = []
    made = 0
    while made < recipients:
        size = min(per_campaign, recipients - made)
        numbers = [phone((made + i) % distinct) for i in range(size)]
        created = herald.campaigns.create(
            account,
            CreateCampaign(
                agent_id=agent,
                name=f"bench {len(campaigns)}",
                message_template="Hi {{n}}, Acme Dental offering 20% off cleanings.",
                recipients=[RecipientIn(p, {"n": str(i)}) for i, p in enumerate(numbers)],
                from_numbers=NUMBERS,
            ),
            source="api",
        )
        campaign_id = created.campaign_id
        campaigns.append(campaign_id)
        for start in range(0, size, SAVE_EVERY):
            chunk = range(start, min(start + SAVE_EVERY, size))
            sent = at + timedelta(seconds=start / 100)
            messages = [_sent(campaign_id, i, account, agent_id, numbers[i], sent) for i in chunk]
            _record_in_steps(store, messages)
        made += size
    for n in range(0, distinct, 50):  # a phone in fifty opts out, one in a hundred back in
        herald.consents.opt_out(account, phone(n), "STOP", "sms", f"SM{n:032x}")
        if n % 100 == 0:
            herald.consents.opt_in(account, phone(n), "sms", "START")
    recorded = time.perf_counter() - started
    if project:
        herald.projector.catch_up()
    return {
        "account": account,
        "agent": agent,
        "campaigns": campaigns,
        "events": store.last_position(),
        "record_s": recorded,
        "total_s": time.perf_counter() - started,
    }


def _record_in_steps(store: Any, messages: list[Message]) -> None:
    """Each message's events, a step at a time for all of them, as they come in: the
    attempts, then Twilio's answers, then the `sent` callbacks, then the final ones."""
    events = [m.collect_events() for m in messages]
    for step in range(max(len(e) for e in events)):
        store.record(*(e[step] for e in events if len(e) > step))


def _sent(
    campaign_id: UUID, index: int, account: UUID, agent: UUID, to: str, at: datetime
) -> Message:
    """A recipient's message as the dispatcher and the callbacks leave it: one in twenty
    undelivered (30003), one in fifty rejected (21211), the rest delivered."""
    message = Message(
        id=campaign_message_id(campaign_id, index),
        account_id=account,
        agent_id=agent,
        to=to,
        from_number=NUMBERS[index % len(NUMBERS)],
        body=f"Hi {index}, Acme Dental offering 20% off cleanings.",
        segments=1,
        encoding="GSM-7",
        created_at=at,
        campaign_id=campaign_id,
        recipient_index=index,
        attempted_by="bench-dispatcher",
    )
    if index % 50 == 7:
        message.rejected(21211, "The 'To' number is not a valid phone number.", at)
        return message
    sid = f"SM{campaign_id.hex[:16]}{index:016x}"
    message.queued(sid, at + timedelta(milliseconds=200))
    message.status_reported("sent", sid, None, None, at + timedelta(seconds=1))
    if index % 20 == 3:
        message.status_reported(
            "undelivered", sid, 30003, "Unreachable destination handset", at + timedelta(seconds=5)
        )
    else:
        message.status_reported("delivered", sid, None, None, at + timedelta(seconds=5))
    return message
