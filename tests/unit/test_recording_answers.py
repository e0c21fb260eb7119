"""Recording Twilio's answers (application.answers) on eventsourcing's in-memory store."""

from datetime import UTC, datetime

import pytest

from application.answers import Answers
from application.ports import SubmitOutcome
from application.store import EventStore
from domain.consent import Consent, consent_id
from domain.message import AttemptState, Message
from tests.conftest import FakeReadModels, FixedClock, a_message

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def in_flight(store: EventStore) -> Message:
    message = a_message(NOW, attempted_by="dispatcher-a")
    store.record(message)
    return message


@pytest.fixture
def store() -> EventStore:
    return EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def answers(store: EventStore) -> Answers:
    return Answers(store, FakeReadModels(), FixedClock(NOW), max_attempts=8)


def test_a_batch_of_answers_is_recorded_on_its_messages(store: EventStore) -> None:
    first, second = in_flight(store), in_flight(store)
    answers(store).record(
        [(first, SubmitOutcome("queued", twilio_sid="SM1")), (second, SubmitOutcome("uncertain"))]
    )
    assert store.get(Message, first.id).attempt_state == AttemptState.DONE
    assert store.get(Message, second.id).attempt_state == AttemptState.UNCERTAIN


def test_an_opt_out_error_starts_the_phones_consent_opted_out(store: EventStore) -> None:
    message = in_flight(store)
    answers(store).record([(message, SubmitOutcome("rejected", error_code=21610))])
    consent = store.get(Consent, consent_id(message.account_id, message.to))
    assert consent.opted_out


def test_an_opt_out_error_opts_out_a_phone_that_had_consented_before(store: EventStore) -> None:
    message = in_flight(store)
    consent = Consent(account_id=message.account_id, phone=message.to)
    store.record(consent)
    answers(store).record([(message, SubmitOutcome("rejected", error_code=21610))])
    assert store.get(Consent, consent.id).opted_out
    assert store.get(Consent, consent.id).version == 2


def test_a_database_failure_reading_the_consent_is_not_taken_for_a_fresh_consent(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = in_flight(store)

    def outage(*args: object, **kwargs: object) -> None:
        raise ConnectionError("the database is down")

    monkeypatch.setattr(store.repository, "get", outage)
    with pytest.raises(ConnectionError):
        answers(store).record([(message, SubmitOutcome("rejected", error_code=21610))])


def test_answers_whose_recording_failed_are_recorded_again_from_fresh_messages(
    store: EventStore,
) -> None:
    message = in_flight(store)
    spent = store.get(Message, message.id)
    spent.queued(twilio_sid="SM0", at=NOW)  # events taken by a write that failed
    spent.collect_events()
    answers(store).record([], again=[(spent, SubmitOutcome("queued", twilio_sid="SM1"))])
    assert store.get(Message, message.id).twilio_sid == "SM1"


def test_an_answer_to_a_message_answered_meanwhile_is_left_alone(store: EventStore) -> None:
    message = in_flight(store)
    fresh = store.get(Message, message.id)
    fresh.queued(twilio_sid="SM1", at=NOW)
    store.record(fresh)
    assert answers(store).record([], again=[(message, SubmitOutcome("uncertain"))]) == 0
    assert store.get(Message, message.id).attempt_state == AttemptState.DONE
