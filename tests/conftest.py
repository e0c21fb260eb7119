"""Shared fixtures: one fresh PostgreSQL database per test session.

It lives on the server DATABASE_URL names, or else on an embedded PostgreSQL that the
tests start themselves (as a newcomer's laptop would), so both paths stay working.
"""

import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
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
