"""What Twilio's answers mean for a message and its consent (domain.answers)."""

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from domain.answers import (
    gives_up,
    lookup_since,
    needs_lookup,
    opt_out_on_submit,
    record_answer,
    record_lookup,
)
from domain.consent import Consent
from domain.message import AttemptState, Message
from domain.status import RecipientStatus
from tests.conftest import a_message

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Answer:
    kind: str
    twilio_sid: str | None = None
    error_code: int | None = None
    error_message: str = ""


def in_flight(attempts: int = 1) -> Message:
    message = a_message(NOW, attempted_by="dispatcher-a")
    for _ in range(attempts - 1):
        message.deferred(reason="429", error_code=20429, retry_at=NOW, at=NOW)
        message.attempt(at=NOW, dispatcher="dispatcher-a")
    message.collect_events()
    return message


def answered(message: Message, answer: Answer) -> tuple[list[str], bool]:
    opted_out = record_answer(message, answer, NOW, random.Random(1), MAX_ATTEMPTS)
    return [type(e).__name__ for e in message.collect_events()], opted_out


def test_a_queued_answer_records_the_sid_and_queues_the_message() -> None:
    message = in_flight()
    assert answered(message, Answer("queued", twilio_sid="SM1")) == (["Queued"], False)
    assert message.twilio_sid == "SM1"
    assert message.status == RecipientStatus.QUEUED
    assert message.attempt_state == AttemptState.DONE


def test_a_rejection_fails_the_message() -> None:
    message = in_flight()
    events, opted_out = answered(message, Answer("rejected", error_code=21211, error_message="x"))
    assert (events, opted_out) == (["Rejected"], False)
    assert message.status == RecipientStatus.FAILED


def test_a_rejection_with_error_21610_fails_the_message_and_opts_the_phone_out() -> None:
    message = in_flight()
    events, opted_out = answered(message, Answer("rejected", error_code=21610))
    assert (events, opted_out) == (["Rejected"], True)


def test_a_deferral_is_retried_later_with_backoff() -> None:
    message = in_flight()
    opted_out = record_answer(
        message, Answer("deferred", error_code=20429), NOW, random.Random(1), MAX_ATTEMPTS
    )
    (event,) = message.collect_events()
    assert not opted_out
    assert type(event).__name__ == "Deferred"
    assert event.error_code == 20429  # type: ignore[attr-defined]
    # The first retry waits between half a second and a second.
    assert NOW + timedelta(seconds=0.5) <= event.retry_at <= NOW + timedelta(seconds=1)  # type: ignore[attr-defined]
    assert message.attempt_state == AttemptState.RETRY


def test_a_deferral_on_the_7th_attempt_of_8_is_retried() -> None:
    message = in_flight(attempts=7)
    assert answered(message, Answer("deferred", error_code=20429))[0] == ["Deferred"]


def test_a_deferral_on_the_8th_attempt_of_8_gives_up_and_fails_the_message() -> None:
    message = in_flight(attempts=8)
    record_answer(
        message,
        Answer("deferred", error_code=20429, error_message="Too many requests"),
        NOW,
        random.Random(1),
        MAX_ATTEMPTS,
    )
    (event,) = message.collect_events()
    assert type(event).__name__ == "Rejected"
    assert event.error_message == "gave up after 8 attempts: Too many requests"  # type: ignore[attr-defined]
    assert message.status == RecipientStatus.FAILED


def test_a_deferred_message_gives_up_once_it_has_had_its_attempts() -> None:
    assert not gives_up(7, 8)
    assert gives_up(8, 8)
    assert gives_up(9, 8)


def test_a_submission_kept_back_is_due_again_at_once_and_not_counted_as_a_failure() -> None:
    message = in_flight(attempts=8)
    record_answer(
        message,
        Answer("not_submitted", error_message="quiet hours began first"),
        NOW,
        random.Random(1),
        MAX_ATTEMPTS,
    )
    (event,) = message.collect_events()
    assert type(event).__name__ == "Deferred"
    assert event.retry_at == NOW  # type: ignore[attr-defined]
    assert event.error_code is None  # type: ignore[attr-defined]
    assert message.attempt_state == AttemptState.RETRY


def test_an_uncertain_answer_leaves_the_message_to_be_looked_up() -> None:
    message = in_flight()
    assert answered(message, Answer("uncertain", error_message="network error")) == (
        ["Uncertain"],
        False,
    )
    assert needs_lookup(message)


def test_an_opt_out_on_submit_records_twilio_and_the_error_as_evidence() -> None:
    consent = Consent(account_id=uuid4(), phone="+447111000001")
    consent.collect_events()
    opt_out_on_submit(consent, NOW)
    (event,) = consent.collect_events()
    assert consent.opted_out
    assert (event.keyword, event.source, event.evidence) == (  # type: ignore[attr-defined]
        "21610",
        "twilio",
        "error 21610 on submit",
    )


def test_an_attempt_in_flight_or_uncertain_needs_a_lookup_but_an_answered_one_does_not() -> None:
    message = in_flight()
    assert needs_lookup(message)
    message.queued(twilio_sid="SM1", at=NOW)
    assert not needs_lookup(message)


def test_twilio_is_searched_from_five_minutes_before_the_attempt() -> None:
    assert lookup_since(in_flight()) == NOW - timedelta(minutes=5)


def test_an_attempt_found_in_twilio_is_queued_as_found_by_reconciliation() -> None:
    message = in_flight()
    record_lookup(message, "SM9", NOW)
    (event,) = message.collect_events()
    assert type(event).__name__ == "Queued"
    assert event.found_by_reconciliation  # type: ignore[attr-defined]
    assert message.twilio_sid == "SM9"


def test_an_attempt_not_in_twilio_is_due_again_at_once() -> None:
    message = in_flight()
    record_lookup(message, None, NOW)
    (event,) = message.collect_events()
    assert type(event).__name__ == "Deferred"
    assert event.retry_at == NOW  # type: ignore[attr-defined]
    assert event.reason == "not in Twilio after an unanswered submission"  # type: ignore[attr-defined]
