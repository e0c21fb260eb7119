"""Receiving one inbound SMS: it joins its conversation, and a keyword changes consent or
asks for help.

The account is the owner of the number written to (`To`), never what the request says of
itself; the request must be signed with that account's auth token. A message to a number
no account owns is recorded nowhere (the webhook still answers 200 so Twilio stops
retrying). The conversation and a keyword's consent change (or the answer to HELP) are
recorded in one transaction, and the read models are caught up before the webhook answers,
so the dispatcher sees an opt-out before its next plan.
"""

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from enum import Enum
from typing import Protocol
from uuid import UUID

import msgspec
import structlog

from application.errors import ChangedConcurrently, ValidationFailed, problem
from application.ports import CampaignLocks, Clock, NoCampaignLocks, ReadModels
from application.sms import SendSms, SingleSms
from application.store import EventStore, IntegrityError
from domain import ids
from domain.account import Account
from domain.consent import Consent, consent_id
from domain.conversation import (
    PHONE_CHARS,
    Conversation,
    conversation_id,
    stored_body,
    stored_phone,
)
from domain.keywords import Keyword, classify, read
from domain.message import Message
from domain.text import escaped, text_problem

log = structlog.get_logger()

ATTEMPTS = 3  # a concurrent delivery of the same conversation: load and try again


class NumberOwner(msgspec.Struct, frozen=True):
    account_id: UUID
    agent_id: UUID


class Threads(Protocol):
    """What receiving reads of the read models."""

    def number_owner(self, number: str) -> NumberOwner | None:
        """The account and agent owning a sender number, if any does."""
        ...

    def last_outbound(self, account_id: UUID, number: str, phone: str) -> UUID | None:
        """The latest message the account sent from `number` to `phone`."""
        ...


class InboundSms(msgspec.Struct, frozen=True):
    """Twilio's webhook parameters, as they came."""

    to: str
    from_: str
    body: str
    sid: str


class Received(Enum):
    RECORDED = "recorded"
    ALREADY_RECORDED = "already_recorded"  # Twilio delivered the same SID again
    UNKNOWN_NUMBER = "unknown_number"  # no account owns `To`: nothing recorded
    NOT_SIGNED = "not_signed"  # not signed by the owner's auth token: nothing recorded


class Inbound:
    def __init__(
        self,
        store: EventStore,
        read_models: ReadModels,
        threads: Threads,
        sms: SingleSms,
        clock: Clock,
        locks: CampaignLocks | None = None,
    ) -> None:
        self.store = store
        self.read_models = read_models
        self.threads = threads
        self.sms = sms
        self.clock = clock
        self.locks = locks or NoCampaignLocks()

    def receive(self, inbound: InboundSms, signed_by: Callable[[UUID], bool]) -> Received:
        # A `To` no number could be (a NUL, a control character) is owned by nobody.
        storable = text_problem(inbound.to, PHONE_CHARS) is None
        owner = self.threads.number_owner(inbound.to) if storable else None
        if owner is None:
            log.warning(
                "inbound_to_unknown_number",
                to=escaped(inbound.to, 40),
                sid=escaped(inbound.sid, 64),
            )
            return Received.UNKNOWN_NUMBER
        if not signed_by(owner.account_id):
            return Received.NOT_SIGNED
        _check(inbound)
        for _ in range(ATTEMPTS):
            try:
                with self._guard(owner.account_id, inbound.body):
                    received = self._record(owner, inbound)
            except IntegrityError:  # the same conversation or consent changed meanwhile
                continue
            if received is None:
                return Received.ALREADY_RECORDED
            return Received.RECORDED
        raise ChangedConcurrently(f"conversation with {escaped(inbound.from_, 40)} kept changing")

    def _guard(self, account_id: UUID, body: str) -> AbstractContextManager[None]:
        """An opt-out is recorded under the account's guard taken exclusively, as
        application/consents.py explains: it waits out the submissions already planned, and
        none is planned until the read models show it. (Whether a body opts out does not
        depend on the phone's consent; only YES does, and it opts in.)"""
        if classify(body, opted_out=False) is Keyword.OPT_OUT:
            return self.locks.exclusive_account(account_id)
        return nullcontext()

    def _record(self, owner: NumberOwner, inbound: InboundSms) -> Conversation | None:
        """Record the message with its consent change or its answer to HELP, in one
        transaction (so a retried webhook never answers twice, and an answer is never lost
        to a crash in between); None when its SID already was. The time recorded is read
        here, after the guard is held."""
        account_id, number, phone = owner.account_id, inbound.to, stored_phone(inbound.from_)
        conversation = self.store.find(
            Conversation, conversation_id(account_id, number, phone)
        ) or Conversation(
            account_id=account_id, agent_id=owner.agent_id, number=number, phone=phone
        )
        if conversation.has_received(inbound.sid):
            return None
        consent = self.store.find(Consent, consent_id(account_id, phone))
        opted_out = consent is not None and consent.opted_out
        classification = read(inbound.body, opted_out)
        now = self.clock.now()
        conversation.receive(
            twilio_sid=inbound.sid,
            body=stored_body(inbound.body),
            received_at=now,
            classification=classification,
            in_reply_to=self.threads.last_outbound(account_id, number, phone),
        )
        changed: list[object] = [conversation]
        if classification.keyword in (Keyword.OPT_OUT, Keyword.OPT_IN):
            consent = consent or Consent(account_id=account_id, phone=phone)
            if classification.keyword is Keyword.OPT_OUT:
                consent.opt_out(
                    keyword=classification.word, source="sms", evidence=inbound.sid, at=now
                )
            else:
                consent.opt_in(source=f"sms:{classification.word}", evidence=inbound.sid, at=now)
            changed.append(consent)
        if classification.keyword is Keyword.HELP:
            changed += self._answer_to_help(conversation, opted_out, now)
        self.read_models.catch_up(until=self.store.record(*changed))
        log.info(
            "inbound_recorded",
            conversation_id=str(conversation.id),
            sid=inbound.sid,
            keyword=classification.keyword.value,
        )
        return conversation

    def _answer_to_help(
        self, conversation: Conversation, opted_out: bool, received_at: datetime
    ) -> list[Message]:
        """The account's help text as a single message from the number written to: an
        answer to the person, so quiet hours do not hold it within the hour
        (domain/replies.py). Nothing goes to an opted-out phone, not even this answer."""
        if opted_out:
            log.info("help_not_answered_opted_out", conversation_id=str(conversation.id))
            return []
        account = self.store.get(Account, conversation.account_id, "account")
        command = SendSms(
            agent_id=ids.public_id(ids.AGENT, conversation.agent_id),
            to=conversation.phone,
            from_number=conversation.number,
            message=account.answer_to_help(),
        )
        try:
            return [self.sms.message(conversation.account_id, command, answering=received_at)]
        except ValidationFailed as refused:  # e.g. `From` is not a phone Herald may send to
            log.warning(
                "help_not_answered",
                conversation_id=str(conversation.id),
                problems=[d.get("code") for d in refused.details],
            )
            return []


def _check(inbound: InboundSms) -> None:
    """A signed request is Twilio's, but what it records must still be an SMS's fields."""
    errors = []
    if (
        not inbound.sid
        or len(inbound.sid) > 64
        or not inbound.sid.isascii()
        or not inbound.sid.isalnum()
    ):
        errors.append(
            problem("MessageSid", escaped(inbound.sid), "invalid_sid", "must be a Twilio SID")
        )
    if not inbound.from_.strip():
        errors.append(problem("From", inbound.from_, "missing", "is required"))
    if errors:
        raise ValidationFailed("invalid inbound message", errors)
