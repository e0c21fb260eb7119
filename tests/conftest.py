"""Shared fixtures: one fresh PostgreSQL database per test session.

It lives on the server DATABASE_URL names, or else on an embedded PostgreSQL that the
tests start themselves (as a newcomer's laptop would), so both paths stay working.
"""

import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from interfaces.database import create_database, drop_database, embedded_url


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    server = os.environ.get("DATABASE_URL") or embedded_url(
        Path(tempfile.mkdtemp(prefix="herald-pg-"))
    )
    name = f"herald_test_{os.getpid()}"
    yield create_database(server, name)
    drop_database(server, name)


class ShiftedClock:
    """Real time, moved to another moment: `ShiftedClock(at)` reads `at` now and runs on at
    the real pace, so the dispatcher's pacing stays real while the hour is the test's."""

    def __init__(self, at: datetime) -> None:
        self.offset = at - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


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
