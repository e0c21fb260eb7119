"""Ports: what the use cases need from the world, implemented in projections/ and interfaces/."""

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol
from uuid import UUID

import msgspec

from domain.quiet_hours import QuietHours


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The real time, moved by `offset` (HERALD_CLOCK_OFFSET): Herald can be tried, and its
    tests run, at any hour, with its pacing still at the real pace."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    @classmethod
    def starting_at(cls, at: datetime) -> "SystemClock":
        """A clock that reads `at` now."""
        return cls(at - datetime.now(UTC))

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class ReadModels(Protocol):
    """What the use cases read from the projections."""

    def catch_up(self, until: int | None = None) -> None:
        """Apply recorded events to the read models, at least up to `until`."""

    def opted_out(self, account_id: UUID, phones: Iterable[str]) -> set[str]:
        """Which of these phones have opted out of this account's messages."""
        ...

    def refusals(self, account_id: UUID, phones: Iterable[str]) -> dict[str, str]:
        """Why each of these phones may not be sent to (domain.consent.refusal), by phone:
        opted out, or without an opt-in record while the account requires one."""
        ...

    def quiet_hours(self, account_ids: Iterable[UUID]) -> dict[UUID, QuietHours | None]:
        """Each account's quiet-hours policy (None: off); the default for an account the
        read models do not show yet."""
        ...


class SubmitOutcome(msgspec.Struct, frozen=True):
    """Twilio's answer to one submission, in Herald's terms (`not_submitted`: the dispatcher
    kept it back, so Twilio never saw it)."""

    kind: Literal["queued", "rejected", "deferred", "uncertain", "not_submitted"]
    twilio_sid: str | None = None
    error_code: int | None = None
    error_message: str = ""


class SmsGateway(Protocol):
    """Twilio's Messages API, as the dispatcher uses it."""

    def warm(self) -> None:
        """Prepare the calling thread to submit without first-call delays."""

    async def submit_async(
        self, account_id: UUID, to: str, from_: str, body: str, status_callback: str
    ) -> SubmitOutcome: ...

    async def aclose(self) -> None: ...

    def find(self, account_id: UUID, to: str, from_: str, body: str, since: datetime) -> str | None:
        """The SID of a message with this body sent since `since`, if Twilio has one."""
        ...


class CampaignLocks(Protocol):
    """Serialises cancel and pause against the dispatcher's submissions of a campaign, and
    opt-outs against its submissions of an account."""

    def exclusive(self, campaign_id: UUID) -> AbstractContextManager[None]: ...

    def exclusive_account(self, account_id: UUID) -> AbstractContextManager[None]: ...


class NoCampaignLocks:
    """For a process where no dispatcher runs (unit tests)."""

    @contextmanager
    def exclusive(self, campaign_id: UUID) -> Iterator[None]:
        yield

    @contextmanager
    def exclusive_account(self, account_id: UUID) -> Iterator[None]:
        yield


class TwilioSecrets(Protocol):
    """Where an account's Twilio auth token is kept (never in the event log)."""

    def store(self, account_id: UUID, sid: str, token: str) -> None: ...


class ThreadTurn(msgspec.Struct, frozen=True):
    direction: str  # "inbound" (from the phone) or "outbound" (to it)
    body: str
    at: datetime


class ReplyRequest(msgspec.Struct, frozen=True):
    """What a responder is asked to answer; a webhook responder receives it as JSON."""

    agent_id: str
    conversation_id: str
    phone: str  # who wrote
    sender_number: str  # the agent's number they wrote to
    system_prompt: str  # the agent's, as set
    thread: list[ThreadTurn]  # oldest first: the newest turns that fit (domain/replies.py)
    trimmed: bool  # older turns were left out
    omitted: int  # how many


class ResponderFailed(Exception):
    """A responder gave no answer: `code` is timeout, connection_failed, http_error,
    unusable_answer or not_configured; `reason` says what happened, for the thread."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


class Responder(Protocol):
    """Writes an agent's answer to a thread (interfaces/responders.py)."""

    def answer(self, kind: str, url: str | None, request: ReplyRequest) -> str:
        """The answer's text, as the responder gave it; raises ResponderFailed."""
        ...


class ReplyQueue(Protocol):
    """What the reply worker reads from the read models (projections/reply_queue.py)."""

    def awaiting_answer(self, limit: int) -> list[UUID]:
        """Conversations with a reply awaiting an answer, none being written, whose agent
        has a responder: the longest waiting first."""
        ...

    def answers_requested_before(self, before: datetime, limit: int) -> list[UUID]:
        """Conversations whose answer was requested before `before` and never recorded."""
        ...

    def thread(
        self, account_id: UUID, number: str, phone: str, limit: int
    ) -> tuple[list[ThreadTurn], int]:
        """The newest `limit` messages between `number` and `phone`, both ways, oldest
        first, and how many the thread has in all."""
        ...
