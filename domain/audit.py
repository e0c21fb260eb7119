"""What an auditor asks of a history: what consent was held at a moment, and whether anything
was submitted to a phone after its opt-out was recorded.

A history is a list of `Fact`s (one per recorded event, in log order) with the time the
event itself names (`at`, or a message's `created_at`): the time by Herald's clock, the one
an opt-out and a submission are both recorded with, so the two compare.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Consent events by what they make of the phone's consent. Any other Consent event (its
# creation, a help request…) leaves it as it was.
OPTING_OUT = frozenset({"Consent.OptedOut"})
OPTING_IN = frozenset({"Consent.OptedIn", "Consent.OptedBackIn"})
# A submission to Twilio: a message created by its first attempt, or a later attempt.
SUBMITTING = frozenset({"Message.Attempted"})


@dataclass(frozen=True, slots=True)
class Fact:
    position: int
    event: str  # e.g. "Consent.OptedOut"
    aggregate_id: Any
    time: datetime  # the event's own time (`at`), else when it was recorded
    facts: dict[str, Any]


def fact_time(facts: dict[str, Any], recorded: datetime) -> datetime:
    """The time an event names for what it records, else the time it was recorded."""
    for name in ("at", "created_at", "received_at"):
        value = facts.get(name)
        if isinstance(value, datetime):
            return value
    return recorded


def is_submission(fact: Fact) -> bool:
    if fact.event in SUBMITTING:
        return True
    # A campaign recipient's message comes into being with its first attempt.
    return fact.event == "Message.Created" and bool(fact.facts.get("attempted_by"))


def consent_changes(history: Iterable[Fact]) -> list[Fact]:
    return [f for f in history if f.event in OPTING_OUT or f.event in OPTING_IN]


@dataclass(frozen=True, slots=True)
class ConsentHeld:
    status: str  # "opted_in", "opted_out", or "no_record"
    since: Fact | None  # the change that made it so


def consent_at(changes: Sequence[Fact], at: datetime, strictly_before: bool = False) -> ConsentHeld:
    """The consent held at `at`: the latest opt-in or opt-out at or before it (or, with
    `strictly_before`, before it), the later in the log of two at the same time."""
    earlier = [c for c in changes if c.time < at or (c.time == at and not strictly_before)]
    last = max(earlier, key=lambda c: (c.time, c.position), default=None)
    if last is None:
        return ConsentHeld("no_record", None)
    return ConsentHeld("opted_out" if last.event in OPTING_OUT else "opted_in", last)


@dataclass(frozen=True, slots=True)
class SentAfterStop:
    submission: Fact
    opt_out: Fact


def sent_after_stop(changes: Sequence[Fact], history: Iterable[Fact]) -> list[SentAfterStop]:
    """The submissions of `history` made while the phone was opted out: after an opt-out
    was recorded and before any later opt-in. `changes` are one phone's (and account's)."""
    found = []
    for submission in filter(is_submission, history):
        held = consent_at(changes, submission.time, strictly_before=True)
        if held.status == "opted_out" and held.since is not None:
            found.append(SentAfterStop(submission, held.since))
    return found
