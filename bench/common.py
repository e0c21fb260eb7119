"""Shared bench plumbing: a fresh database, a `herald serve` process, a tenant, timings."""

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from interfaces.database import create_database, embedded_url
from tests.e2e.conftest import HERALD, herald_cli

__all__ = ["HERALD", "fresh_database", "p99", "tenant", "timed"]


def fresh_database(name: str) -> str:
    server = os.environ.get("DATABASE_URL") or embedded_url(
        Path(tempfile.mkdtemp(prefix="herald-bench-"))
    )
    return create_database(server, name)


def tenant(database_url: str) -> tuple[str, str, str]:
    """(key, agent_id, from_number) of a fresh account."""
    account = herald_cli(database_url, "accounts", "create", "bench")
    key = herald_cli(database_url, "keys", "create", "--account", account)
    agent = herald_cli(database_url, "agents", "create", "--account", account, "--name", "b")
    number = "+447446466847"
    herald_cli(
        database_url, "numbers", "add", "--account", account, "--agent", agent, "--phone", number
    )
    return key, agent, number


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98]
