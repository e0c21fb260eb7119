"""Shared bench plumbing: a fresh database, a tenant, timings, the exactly-once count."""

import os
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from harness.processes import HERALD, cli_tenant
from interfaces.database import create_database, embedded_url

__all__ = ["HERALD", "exactly_once", "fresh_database", "p99", "tenant", "timed"]


def fresh_database(name: str) -> str:
    server = os.environ.get("DATABASE_URL") or embedded_url(
        Path(tempfile.mkdtemp(prefix="herald-bench-"))
    )
    return create_database(server, name)


def tenant(database_url: str) -> tuple[str, str, str]:
    """(key, agent_id, from_number) of a fresh account (quiet hours off: figures at any hour)."""
    number = "+447446466847"
    made = cli_tenant(database_url, "bench", [number])
    return made.key, made.agent, number


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98]


def exactly_once(phones: Iterable[str], messages: Iterable[dict[str, object]]) -> bool:
    """Print how many recipients the simulator's record shows texted twice or never, and
    whether every recipient got exactly one message."""
    got = Counter(str(m["to"]) for m in messages)
    expected = set(phones)
    duplicates = {phone: n for phone, n in got.items() if n > 1}
    lost = expected - set(got)
    strangers = set(got) - expected
    print(
        f"exactly once: {len(expected)} recipients, duplicates {len(duplicates)}"
        f" ({sum(duplicates.values()) - len(duplicates)} extra messages), losses {len(lost)},"
        f" to others {len(strangers)}"
    )
    if duplicates or lost or strangers:
        print(f"FAILED: e.g. twice {sorted(duplicates)[:5]}, never {sorted(lost)[:5]}")
        return False
    return True
