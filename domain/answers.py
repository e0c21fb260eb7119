"""What Twilio's answers mean for a message and its phone's consent: the events recorded
for each answer to a submission (retry or give up, opt out on 21610), and for a lookup of
an attempt whose answer was never recorded."""

import random
from datetime import datetime, timedelta
from typing import Protocol

from domain.consent import Consent
from domain.message import AttemptState, Message
from domain.sending import OPT_OUT_ERROR, retry_delay

# An unanswered attempt is looked up in Twilio's list from a little before it was made.
LOOKUP_MARGIN = timedelta(minutes=5)


class Answer(Protocol):
    """Twilio's answer to one submission, in Herald's terms (`not_submitted`: the
    dispatcher kept it back, so Twilio never saw it)."""

    @property
    def kind(self) -> str: ...
    @property
    def twilio_sid(self) -> str | None: ...
    @property
    def error_code(self) -> int | None: ...
    @property
    def error_message(self) -> str: ...


def gives_up(attempts: int, max_attempts: int) -> bool:
    """A deferred message is tried again until it has had `max_attempts` attempts."""
    return attempts >= max_attempts


def record_answer(
    message: Message, answer: Answer, at: datetime, rng: random.Random, max_attempts: int
) -> bool:
    """Record Twilio's answer on its message; whether it says the phone opted out."""
    if answer.kind == "queued":
        assert answer.twilio_sid is not None
        message.queued(twilio_sid=answer.twilio_sid, at=at)
    elif answer.kind == "rejected":
        message.rejected(error_code=answer.error_code, error_message=answer.error_message, at=at)
        return answer.error_code == OPT_OUT_ERROR
    elif answer.kind == "deferred" and not gives_up(message.attempts, max_attempts):
        message.deferred(
            reason=answer.error_message,
            error_code=answer.error_code,
            retry_at=at + timedelta(seconds=retry_delay(message.attempts, rng)),
            at=at,
        )
    elif answer.kind == "deferred":
        message.rejected(
            error_code=answer.error_code,
            error_message=f"gave up after {message.attempts} attempts: {answer.error_message}",
            at=at,
        )
    elif answer.kind == "not_submitted":  # no attempt reached Twilio: not counted against it
        message.deferred(reason=answer.error_message, error_code=None, retry_at=at, at=at)
    else:
        message.uncertain(reason=answer.error_message, at=at)
    return False


def opt_out_on_submit(consent: Consent, at: datetime) -> None:
    """Twilio refused a submission because the phone opted out (21610): the consent says so."""
    consent.opt_out(
        keyword=str(OPT_OUT_ERROR),
        source="twilio",
        evidence=f"error {OPT_OUT_ERROR} on submit",
        at=at,
    )


def needs_lookup(message: Message) -> bool:
    """An attempt whose answer was never recorded, or was uncertain: Twilio's list says
    whether it was created."""
    return message.attempt_state in (AttemptState.IN_FLIGHT, AttemptState.UNCERTAIN)


def lookup_since(message: Message) -> datetime:
    return message.attempted_at - LOOKUP_MARGIN


def record_lookup(message: Message, twilio_sid: str | None, at: datetime) -> None:
    """Record what Twilio's list says of an unanswered attempt: created (queued), or not
    (due again at once)."""
    if twilio_sid is not None:
        message.queued(twilio_sid=twilio_sid, at=at, found_by_reconciliation=True)
        return
    message.deferred(
        reason="not in Twilio after an unanswered submission", error_code=None, retry_at=at, at=at
    )
