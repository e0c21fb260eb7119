"""Shared fixtures: one fresh PostgreSQL database per test session, and the fakes that
`bootstrap(..., overrides)` takes in place of Twilio, the clock and the read models.

The database lives on the server DATABASE_URL names, or else on an embedded PostgreSQL
that the tests start themselves (as a newcomer's laptop would), so both paths stay working.
"""

import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from application.ports import NoCampaignLocks, SubmitOutcome
from application.store import EventStore
from domain.message import Message
from domain.quiet_hours import QuietHours
from interfaces.bootstrap import Herald, bootstrap
from interfaces.database import create_database, drop_database, embedded_url
from interfaces.settings import Settings


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    server = os.environ.get("DATABASE_URL") or embedded_url(
        Path(tempfile.mkdtemp(prefix="herald-pg-"))
    )
    name = f"herald_test_{os.getpid()}"
    yield create_database(server, name)
    drop_database(server, name)


# HERALD_CLOCK_OFFSET moves every clock of the suite (Herald's in-process and in its
# processes, the simulator's) by that many seconds: the whole suite at another hour.
CLOCK_OFFSET = float(os.environ.get("HERALD_CLOCK_OFFSET", "0"))


def now() -> datetime:
    """What Herald's clocks read in this run."""
    return datetime.now(UTC) + timedelta(seconds=CLOCK_OFFSET)


FIGURES: list[str] = []


@pytest.fixture
def figure() -> Callable[[str], None]:
    """Report a measured figure; all of them are printed at the end of the run."""
    return FIGURES.append


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FIGURES:
        terminalreporter.section("measured figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


class FixedClock:
    """A clock that reads `at` until a test moves it."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@dataclass(frozen=True)
class Submission:
    account_id: UUID
    to: str
    from_: str
    body: str
    status_callback: str


class FakeSmsGateway:
    """The application's SmsGateway port without Twilio: it records every submission and
    answers `answer` (queued, with a fresh SID, unless a test says otherwise)."""

    def __init__(self, answer: SubmitOutcome | None = None) -> None:
        self.answer = answer
        self.submissions: list[Submission] = []

    def warm(self) -> None:
        pass

    def submit(
        self, account_id: UUID, to: str, from_: str, body: str, status_callback: str
    ) -> SubmitOutcome:
        self.submissions.append(Submission(account_id, to, from_, body, status_callback))
        sid = f"SM{len(self.submissions):032x}"
        return self.answer or SubmitOutcome("queued", twilio_sid=sid)

    async def submit_async(
        self, account_id: UUID, to: str, from_: str, body: str, status_callback: str
    ) -> SubmitOutcome:
        return self.submit(account_id, to, from_, body, status_callback)

    async def aclose(self) -> None:
        pass

    def find(self, account_id: UUID, to: str, from_: str, body: str, since: datetime) -> str | None:
        for n, sent in enumerate(self.submissions, start=1):
            if (sent.account_id, sent.to, sent.from_, sent.body) == (account_id, to, from_, body):
                return f"SM{n:032x}"
        return None


class FakeReadModels:
    """The read models the use cases consult, held in memory (no projection runs)."""

    def __init__(self) -> None:
        self.opted: set[str] = set()
        self.quiet: dict[UUID, QuietHours | None] = {}

    def catch_up(self, until: int | None = None) -> None:
        pass

    def opted_out(self, account_id: UUID, phones: Iterable[str]) -> set[str]:
        return {p for p in phones if p in self.opted}

    def quiet_hours(self, account_ids: Iterable[UUID]) -> dict[UUID, QuietHours | None]:
        return {a: self.quiet.get(a) for a in account_ids}  # off unless a test sets it

    def refusals(self, account_id: UUID, phones: Iterable[str]) -> dict[str, str]:
        return {p: "recipient_opted_out" for p in phones if p in self.opted}


class FakeSecrets:
    """Twilio auth tokens kept in memory."""

    def __init__(self) -> None:
        self.stored: dict[UUID, tuple[str, str]] = {}

    def store(self, account_id: UUID, sid: str, token: str) -> None:
        self.stored[account_id] = (sid, token)


# Leads nowhere, so that a part needing PostgreSQL fails at once instead of starting one.
NO_DATABASE = "postgresql://unit-tests-have-no-database.invalid/herald"


def in_memory(settings: Settings | None = None, **overrides: object) -> Herald:
    """Herald built by `bootstrap` on eventsourcing's in-memory store, with fake read
    models, no campaign locks and secrets kept in memory: the use cases, no database."""
    parts: dict[str, object] = {
        "store": EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}),
        "read_models": FakeReadModels(),
        "campaign_locks": NoCampaignLocks(),
        "secrets": FakeSecrets(),
        "gateway": FakeSmsGateway(),
        **overrides,
    }
    return bootstrap(settings or Settings(database_url=NO_DATABASE), **parts)


def a_message(created_at: datetime, attempted_by: str | None = None) -> Message:
    """A fresh one-segment message to a UK mobile: what the unit tests of answers,
    callbacks, planning and upcasts start from."""
    return Message(
        id=uuid4(),
        account_id=uuid4(),
        agent_id=uuid4(),
        to="+447111000001",
        from_number="+447446466847",
        body="Hi",
        segments=1,
        encoding="GSM-7",
        created_at=created_at,
        attempted_by=attempted_by,
    )
