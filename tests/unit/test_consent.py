"""The consent history of one (account, phone): opt-ins, opt-outs, opt-ins back."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from application.store import EventStore
from domain.consent import OPTED_OUT, WITHOUT_OPT_IN, Consent, consent_id, refusal

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
