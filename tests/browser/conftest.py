"""Browser fixtures: Debian's Chromium, headless, driven by Playwright, against Herald's own
processes (the simulator, `herald serve`, a dispatcher), as tests/e2e starts them.

CI installs /usr/bin/chromium (.ci/run) and sets HERALD_REQUIRE_BROWSER=1, so there a
missing browser fails; elsewhere these tests are skipped without it."""

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.processes import CliTenant, cli_tenant
from tests.e2e.conftest import Stack

CHROMIUM = os.environ.get("HERALD_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parents[2] / "test-output" / "screenshots"
TIMEOUT_MS = 60_000  # a loaded 2-core machine: every wait is for a condition, generously

playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("HERALD_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def stack(database_url: str) -> Iterator[Stack]:
    running = Stack(database_url)
    running.dispatcher()
    yield running
    running.close()


@dataclass(frozen=True)
class BrowserTenant:
    key: str
    agent: str
    number: str


_made = itertools.count(1)


@pytest.fixture
def tenant(stack: Stack, database_url: str) -> BrowserTenant:
    """A fresh account (quiet hours off) with an agent and one sender number."""
    number = f"+44744690{next(_made):04d}"
    made: CliTenant = cli_tenant(database_url, "Browser tenant", [number])
    return BrowserTenant(made.key, made.agent, number)


@pytest.fixture
def page(chromium: object, stack: Stack) -> Iterator[object]:
    """A fresh browser context (its own cookies) and page."""
    context = chromium.new_context(  # type: ignore[attr-defined]
        base_url=stack.api_url, viewport={"width": 1200, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
