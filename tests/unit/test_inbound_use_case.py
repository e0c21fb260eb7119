"""Receiving an SMS on the in-memory store: once per SID, STOP under the account's guard,
the consent change in the same transaction, nothing for a number nobody owns."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from application.errors import ValidationFailed
from application.inbound import Inbound, InboundSms, NumberOwner, Received
from domain.consent import Consent, consent_id
from domain.conversation import Conversation, conversation_id
from tests.conftest import FakeReadModels, FixedClock, in_memory

NUMBER = "+447446466847"
PHONE = "+447111000001"


class FakeThreads:
    def __init__(self, owner: NumberOwner) -> None:
        self.owner = owner

    def number_owner(self, number: str) -> NumberOwner | None:
        return self.owner if number == NUMBER else None

    def last_outbound(self, account_id: UUID, number: str, phone: str) -> UUID | None:
        return None


class RecordingLocks:
    def __init__(self) -> None:
        self.held: list[UUID] = []

    @contextmanager
    def exclusive(self, campaign_id: UUID) -> Iterator[None]:
        yield

    @contextmanager
    def exclusive_account(self, account_id: UUID) -> Iterator[None]:
        self.held.append(account_id)
        yield


World = tuple[Inbound, RecordingLocks, NumberOwner]


@pytest.fixture
def world() -> World:
    herald = in_memory(clock=FixedClock(datetime(2026, 3, 2, 10, tzinfo=UTC)))
    owner = NumberOwner(uuid4(), uuid4())
    locks = RecordingLocks()
    inbound = Inbound(
        herald.store, FakeReadModels(), FakeThreads(owner), herald.sms, herald.clock, locks=locks
    )
    return inbound, locks, owner


def sms(body: str, sid: str = "SM" + "1" * 32, to: str = NUMBER) -> InboundSms:
    return InboundSms(to=to, from_=PHONE, body=body, sid=sid)


def test_stop_is_recorded_under_the_accounts_guard_with_its_evidence(world: World) -> None:
    inbound, locks, owner = world
    assert inbound.receive(sms(" Stop! "), lambda account: account == owner.account_id) is (
        Received.RECORDED
    )
    assert locks.held == [owner.account_id]
    consent = inbound.store.get(Consent, consent_id(owner.account_id, PHONE))
    assert consent.opted_out and consent.last_keyword == "STOP"
    conversation = inbound.store.get(Conversation, conversation_id(owner.account_id, NUMBER, PHONE))
    assert conversation.has_received("SM" + "1" * 32)


def test_a_reply_takes_no_guard_and_the_same_sid_is_recorded_once(world: World) -> None:
    inbound, locks, owner = world
    assert inbound.receive(sms("When?"), lambda _: True) is Received.RECORDED
    assert inbound.receive(sms("When?"), lambda _: True) is Received.ALREADY_RECORDED
    assert locks.held == []
    conversation = inbound.store.get(Conversation, conversation_id(owner.account_id, NUMBER, PHONE))
    assert conversation.version == 2  # Started, one MessageReceived


def test_nothing_is_recorded_unsigned_or_to_a_number_nobody_owns(world: World) -> None:
    inbound, _, owner = world
    assert inbound.receive(sms("STOP"), lambda _: False) is Received.NOT_SIGNED
    assert inbound.receive(sms("STOP", to="+447000000000"), lambda _: True) is (
        Received.UNKNOWN_NUMBER
    )
    assert inbound.store.find(Consent, consent_id(owner.account_id, PHONE)) is None


def test_a_signed_request_without_sid_or_sender_names_both_fields(world: World) -> None:
    inbound, _, _ = world
    with pytest.raises(ValidationFailed) as refused:
        inbound.receive(InboundSms(to=NUMBER, from_=" ", body="hi", sid="SM\x00"), lambda _: True)
    assert [d["field"] for d in refused.value.details] == ["MessageSid", "From"]
