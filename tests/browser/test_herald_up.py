"""What a newcomer sees: `herald up` prints the dashboard's URL and a sign-in link for its
demo account; the link (which holds no secret) opens the demo account's campaigns."""

import re
from pathlib import Path
from typing import Any

from tests.e2e.test_stopping import (  # noqa: F401 (fixtures)
    assert_stopped_cleanly,
    fresh_database,
    herald_env,
    start,
    wait_for_line,
    workdir,
)


def test_herald_up_prints_a_sign_in_link_that_opens_the_demo_account(
    workdir: Path,  # noqa: F811
    fresh_database: str,  # noqa: F811
    chromium: Any,
    screenshots: Path,
) -> None:
    started = start(workdir, herald_env(workdir, fresh_database), "up")
    try:
        wait_for_line(started, "HERALD_API_KEY=")
        output = started.output()
        link = re.search(r"Sign in to the demo account.*?: (\S+)", output)
        assert link is not None, output
        secret = output.split("HERALD_API_KEY=")[1].split(":")[1].strip()
        assert secret not in link.group(1)
        shown = started.stderr.read_text()
        assert shown.index(f"Dashboard: {started.url}/dashboard/") < shown.index("Herald is up")

        context = chromium.new_context(viewport={"width": 1200, "height": 800})
        context.set_default_timeout(60_000)
        page = context.new_page()
        page.goto(started.url)  # without the link: the sign-in page
        page.wait_for_selector("#api_key")
        page.goto(link.group(1))
        page.wait_for_selector("text=SMS campaigns")
        assert "Demo" in page.inner_text("header")
        assert "No campaigns yet" in page.inner_text("main")
        page.screenshot(path=str(screenshots / "herald-up-first-look.png"))
        context.close()
    finally:
        assert_stopped_cleanly(started, started.tree())
