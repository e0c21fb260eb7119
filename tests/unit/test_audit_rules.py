"""The auditor's questions (domain/audit.py), the audit's times (application/audit.py) and the
event store's reads by id and by account on the in-memory store."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from application.audit import Audit, json_safe, parse_instant
from application.errors import ValidationFailed
from domain.audit import Fact, consent_at, sent_after_stop
from domain.consent import Consent
from tests.conftest import FixedClock, a_message, in_memory

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def fact(position: int, event: str, minutes: float, **facts: Any) -> Fact:
    return Fact(position, event, uuid4(), T0 + timedelta(minutes=minutes), facts)


OPT_IN = fact(2, "Consent.OptedIn", 0, evidence="form 7")
OPT_OUT = fact(5, "Consent.OptedOut", 10, keyword="STOP")
BACK_IN = fact(9, "Consent.OptedBackIn", 20, evidence="START")
CHANGES = [OPT_IN, OPT_OUT, BACK_IN]


def test_consent_at_a_time_is_the_last_change_at_or_before_it() -> None:
    assert consent_at(CHANGES, T0 - timedelta(seconds=1)).status == "no_record"
    assert consent_at(CHANGES, T0).since == OPT_IN
    assert consent_at(CHANGES, T0 + timedelta(minutes=10)).status == "opted_out"
    assert consent_at(CHANGES, T0 + timedelta(minutes=19)).since == OPT_OUT
    assert consent_at(CHANGES, T0 + timedelta(days=9)).status == "opted_in"


def test_only_submissions_strictly_after_an_opt_out_and_before_the_opt_in_back_count() -> None:
    at_stop = fact(6, "Message.Attempted", 10)
    after = fact(7, "Message.Created", 11, attempted_by="d1")
    created_unsent = fact(8, "Message.Created", 12, attempted_by=None)
    after_back_in = fact(10, "Message.Attempted", 21)
    found = sent_after_stop(CHANGES, [at_stop, after, created_unsent, after_back_in])
    assert [(f.submission, f.opt_out) for f in found] == [(after, OPT_OUT)]


def test_a_date_means_its_start_for_since_and_its_end_for_at() -> None:
    assert parse_instant("since", "2026-11-02") == datetime(2026, 11, 2, tzinfo=UTC)
    end = parse_instant("at", "2026-11-02", end_of_day=True)
    assert end == datetime(2026, 11, 2, 23, 59, 59, 999999, tzinfo=UTC)
    assert parse_instant("at", "2026-11-02T10:00:00+01:00") == datetime(2026, 11, 2, 9, tzinfo=UTC)
    assert parse_instant("at", None) is None


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("2026-11-02T10:00:00", "missing_offset"),
        ("soon", "invalid_time"),
        ("2026-02-30", "invalid_time"),
        ("9999-12-31", "invalid_time"),  # its end is past what a datetime holds
        ("\uff12\uff10\uff12\uff16-11-02", "invalid_time"),
        ("2026-11-02T10:00:00Z" + " " * 60, "invalid_time"),
    ],
)
def test_a_bad_time_names_its_field_and_value(value: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse_instant("until", value, end_of_day=True)
    [detail] = raised.value.details
    assert (detail["field"], detail["value"], detail["code"]) == ("until", value, code)


def test_facts_are_made_json_safe() -> None:
    ident = uuid4()
    assert json_safe({"id": ident, "at": T0, "list": (1, {2})}) == {
        "id": str(ident),
        "at": T0.isoformat(),
        "list": [1, [2]],
    }


def test_the_in_memory_store_reads_events_by_id_and_by_account() -> None:
    herald = in_memory()
    account = herald.directory.create_account("audited")
    other = herald.directory.create_account("other")
    consent = Consent(account_id=account, phone="+447111000001")
    consent.opt_out("STOP", "sms", "SM1", T0)
    message = a_message(T0, attempted_by="d1")
    herald.store.record(consent, message)
    found = herald.store.events_of([consent.id])
    assert [type(r.event).__qualname__ for r in found] == ["Consent.Started", "Consent.OptedOut"]
    assert found[0].position < found[1].position
    assert herald.store.events_of([consent.id], after=found[0].position, limit=5) == found[1:]
    mine = {r.event.originator_id for r in herald.store.stream(account)}
    assert consent.id in mine and account in mine and other not in mine
    assert message.id not in mine  # another account's (a_message makes its own)


def test_a_phone_audit_on_the_in_memory_store_answers_both_questions() -> None:
    herald = in_memory()
    account = herald.directory.create_account("audited")
    consent = Consent(account_id=account, phone="+447111000001")
    consent.opt_in("web", "form 7", T0)
    consent.opt_out("STOP", "sms", "SM1", T0 + timedelta(minutes=5))
    herald.store.record(consent)

    class NoMessages:
        def phone_messages(self, account_id: Any, phone: str) -> list[Any]:
            return []

        def numbers(self, account_id: Any) -> list[str]:
            return ["+447446466847"]

    audit = Audit(herald.store, NoMessages(), FixedClock(T0 + timedelta(hours=1)))
    history = audit.phone(account, "+447111000001")
    assert [e.event for e in history.events] == ["Started", "OptedIn", "OptedOut"]
    assert history.consent.status == "opted_out" and history.sent_after_stop == []
    earlier = audit.phone(account, "+447111000001", (T0 + timedelta(minutes=1)).isoformat())
    assert earlier.consent.status == "opted_in"
    assert earlier.consent.facts is not None and earlier.consent.facts["evidence"] == "form 7"
