"""The consent history of one (account, phone): opt-ins, opt-outs, opt-ins back."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from application.store import EventStore
from domain.account import Account
from domain.consent import OPTED_OUT, WITHOUT_OPT_IN, Consent, consent_id, opt_in_time, refusal
from domain.errors import InvalidTransition
from domain.phone import PhoneValidator
from domain.recipients import plan_recipients
from domain.status import RecipientStatus
from tests.conftest import a_message

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
STORE = EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def a_consent() -> Consent:
    consent = Consent(account_id=uuid4(), phone="+447111000001")
    consent.collect_events()
    return consent


def test_a_fresh_consent_is_neither_opted_in_nor_out() -> None:
    consent = a_consent()
    assert consent.id == consent_id(consent.account_id, "+447111000001")
    assert (consent.opted_out, consent.has_opt_in, consent.opted_in_at) == (False, False, None)


def test_a_first_opt_in_records_its_source_evidence_and_time() -> None:
    consent = a_consent()
    consent.opt_in(source="import", evidence="crm row 12", at=NOW)
    (event,) = consent.collect_events()
    assert type(event).__qualname__ == "Consent.OptedIn"
    assert (event.source, event.evidence, event.at) == ("import", "crm row 12", NOW)  # type: ignore[attr-defined]
    assert (event.account_id, event.phone) == (consent.account_id, consent.phone)  # type: ignore[attr-defined]
    assert consent.has_opt_in and not consent.opted_out
    assert (consent.opted_in_at, consent.opt_in_source, consent.opt_in_evidence) == (
        NOW,
        "import",
        "crm row 12",
    )


def test_an_opt_out_records_the_keyword_the_inbound_sid_and_the_time() -> None:
    consent = a_consent()
    consent.opt_in(source="import", evidence="crm", at=NOW)
    consent.opt_out(keyword="STOP", source="sms", evidence="SM" + "a" * 32, at=LATER)
    _, event = consent.collect_events()
    assert type(event).__qualname__ == "Consent.OptedOut"
    assert (event.keyword, event.evidence, event.at) == ("STOP", "SM" + "a" * 32, LATER)  # type: ignore[attr-defined]
    assert consent.opted_out and not consent.has_opt_in
    assert (consent.opted_out_at, consent.last_keyword, consent.opted_in_at) == (
        LATER,
        "STOP",
        NOW,
    )


def test_opting_back_in_is_told_apart_from_a_first_opt_in() -> None:
    consent = a_consent()
    consent.opt_out(keyword="STOP", source="sms", evidence="SM1", at=NOW)
    consent.opt_in(source="sms", evidence="SM2", at=LATER)
    _, back = consent.collect_events()
    assert type(back).__qualname__ == "Consent.OptedBackIn"
    assert consent.has_opt_in and not consent.opted_out
    assert (consent.opted_in_at, consent.opted_out_at) == (LATER, NOW)


def test_an_opt_in_while_opted_in_is_a_further_opt_in_record() -> None:
    consent = a_consent()
    consent.opt_in(source="import", evidence="a", at=NOW)
    consent.opt_in(source="api", evidence="b", at=LATER)
    kinds = [type(e).__qualname__ for e in consent.collect_events()]
    assert kinds == ["Consent.OptedIn", "Consent.OptedIn"]
    assert (consent.opt_in_source, consent.opt_ins) == ("api", 2)


def test_every_stop_is_recorded_even_when_already_opted_out() -> None:
    consent = a_consent()
    consent.opt_out(keyword="STOP", source="sms", evidence="SM1", at=NOW)
    consent.opt_out(keyword="QUIT", source="sms", evidence="SM2", at=LATER)
    assert len(consent.collect_events()) == 2
    assert (consent.opt_outs, consent.last_keyword, consent.opted_out_at) == (2, "QUIT", LATER)


def test_the_history_replays_from_the_store_to_the_same_state() -> None:
    consent = Consent(account_id=uuid4(), phone="+447111000002")
    consent.opt_in(source="import", evidence="a", at=NOW)
    consent.opt_out(keyword="STOP", source="sms", evidence="SM1", at=LATER)
    consent.opt_in(source="sms", evidence="SM2", at=LATER + timedelta(minutes=1))
    STORE.record(consent)
    replayed = STORE.get(Consent, consent.id)
    assert vars(replayed) == vars(consent)


def test_an_old_opt_in_after_an_opt_out_reads_as_opted_back_in() -> None:
    """Before OptedBackIn existed an opt-in after an opt-out was an OptedIn: same state."""
    consent = Consent(account_id=uuid4(), phone="+447111000003")
    consent.opt_out(keyword="STOP", source="sms", evidence="SM1", at=NOW)
    consent._opted_in(consent.account_id, consent.phone, "sms", "SM2", LATER)  # as recorded then
    STORE.record(consent)
    replayed = STORE.get(Consent, consent.id)
    assert replayed.has_opt_in and not replayed.opted_out
    assert replayed.opted_in_at == LATER


@pytest.mark.parametrize(
    ("opted_out", "has_opt_in", "required", "expected"),
    [
        (False, False, False, None),
        (False, True, False, None),
        (True, False, False, OPTED_OUT),
        (True, False, True, OPTED_OUT),
        (False, False, True, WITHOUT_OPT_IN),
        (False, True, True, None),
    ],
)
def test_what_a_consent_refuses(
    opted_out: bool, has_opt_in: bool, required: bool, expected: str | None
) -> None:
    assert refusal(opted_out, has_opt_in, required) == expected


def test_an_imported_opt_in_time_is_rfc_3339_with_an_offset_and_not_in_the_future() -> None:
    assert opt_in_time("2026-03-01T09:30:00Z", NOW) == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert opt_in_time("2026-11-24T11:00:00+01:00", NOW) == NOW  # the same instant
    for bad in (
        "2026-03-01",
        "2026-03-01T09:30:00",
        "2026-03-01 09:30:00Z",
        "2026-13-01T00:00:00Z",
        "2026-11-24T10:00:01Z",  # a second after now
        "0001-01-01T00:00:00+01:00",
        "٢٠٢٦-03-01T09:30:00Z",
        "2026-03-01T09:30:00.1234567Z",
        "",
    ):
        assert isinstance(opt_in_time(bad, NOW), str), bad


def test_a_message_whose_phone_opted_out_is_suppressed_only_before_it_is_attempted() -> None:
    message = a_message(NOW)
    message.suppress(reason=OPTED_OUT, at=LATER)
    assert (message.status, message.attempt_state) == (RecipientStatus.SUPPRESSED, "done")
    in_flight = a_message(NOW, attempted_by="dispatcher-1")
    with pytest.raises(InvalidTransition):
        in_flight.suppress(reason=OPTED_OUT, at=LATER)


def test_the_opt_in_policy_is_off_until_an_account_records_it() -> None:
    account = Account(name="Acme")
    assert account.opt_in_required is False
    account.require_opt_in(True)
    assert account.opt_in_required is True
    pending = [type(e).__qualname__ for e in account.pending_events]
    assert pending == ["Account.Created", "Account.OptInRequirementSet"]
    STORE.record(account)
    assert STORE.get(Account, account.id).opt_in_required is True


def test_campaign_recipients_without_a_required_opt_in_are_suppressed_and_listed() -> None:
    refused = {"+447111000002": OPTED_OUT, "+447111000003": WITHOUT_OPT_IN}
    plan = plan_recipients(
        "Hi",
        [(f"+44711100000{i}", {}) for i in (1, 2, 3)],
        PhoneValidator(frozenset({"GB"})),
        refused,
    )
    assert [r.suppressed for r in plan.recipients] == [False, True, True]
    assert (plan.suppressed, plan.without_opt_in) == (2, ["+447111000003"])
