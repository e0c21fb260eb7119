"""The dashboard in headless Chromium, against `herald serve`, a dispatcher and the simulator:
sign in, paste numbers, upload a CSV, see the preview with a bad row, launch, watch the
progress reach done, cancel a scheduled campaign. Screenshots go to test-output/screenshots/."""

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.browser.conftest import TIMEOUT_MS, BrowserTenant
from tests.conftest import CLOCK_OFFSET
from tests.e2e.conftest import Stack

Page = Any  # playwright.sync_api.Page: imported only when the browser tests run


def sign_in(page: Page, tenant: BrowserTenant) -> None:
    page.goto("/")
    page.wait_for_url(re.compile(r"/dashboard/signin$"))
    page.fill("#api_key", tenant.key)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/dashboard/$"))
    page.wait_for_selector("text=SMS campaigns")


def api_campaigns(stack: Stack, tenant: BrowserTenant) -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{stack.api_url}/v1/sms/campaigns",
        headers={"Authorization": f"Bearer {tenant.key}"},
        timeout=30,
    )
    answer.raise_for_status()
    campaigns: list[dict[str, Any]] = answer.json()["campaigns"]
    return campaigns


def new_campaign(page: Page, name: str, template: str = "Hi {{name}}, see you soon") -> None:
    page.goto("/dashboard/campaigns/new")
    page.fill("#name", name)
    page.fill("#message_template", template)


def preview(page: Page) -> None:
    """Click Preview and wait for its answer (the last one's is cleared first)."""
    page.evaluate("document.getElementById('result').innerHTML = ''")
    page.click("#preview-button")
    page.wait_for_selector("#result #preview, #result #form-errors")


def test_paste_preview_a_bad_row_launch_and_watch_it_finish(
    page: Page, stack: Stack, tenant: BrowserTenant, screenshots: Path
) -> None:
    sign_in(page, tenant)
    new_campaign(page, "Pasted in the browser")
    page.fill(
        "#recipients_text",
        "phone\tname\n+447111000001\tAnn\n+447111000002\tBob\n12345\tNope\n+447111000003\tCy",
    )
    preview(page)
    assert page.inner_text("#valid-count") == "3"
    assert page.inner_text("#invalid-count") == "1"
    invalid = page.inner_text("#invalid")
    assert "12345" in invalid and "E.164" in invalid
    assert "Hi Ann, see you soon" in page.inner_text("#messages")
    page.screenshot(path=str(screenshots / "new-campaign-preview.png"), full_page=True)

    page.click("#send-now")
    page.wait_for_url(re.compile(r"/dashboard/campaigns/smsc_"))
    campaign_id = page.url.rsplit("/", 1)[1]
    # Without a reload: each change pushed by Server-Sent Events fetches the live part.
    page.wait_for_selector("#campaign-status:text-is('done')", timeout=120_000)
    assert page.inner_text("#delivered-count") == "3"
    page.wait_for_selector("#outcomes-chart svg polyline")
    page.screenshot(path=str(screenshots / "finished-campaign.png"), full_page=True)
    api = httpx.get(
        f"{stack.api_url}/v1/sms/campaigns/{campaign_id}",
        headers={"Authorization": f"Bearer {tenant.key}"},
        timeout=30,
    ).json()
    assert (api["status"], api["delivered_count"], api["source"]) == ("done", 3, "dashboard")
    phones = {m["to"] for m in stack.sent() if m["from"] == tenant.number}
    assert phones == {"+447111000001", "+447111000002", "+447111000003"}

    page.goto("/dashboard/")
    row = page.locator("#campaigns tr", has_text="Pasted in the browser")
    assert "dashboard" in row.inner_text() and "done" in row.inner_text()

    # Ann replies: her conversation shows the campaign's message and her reply.
    httpx.post(
        f"{stack.sim_url}/_sim/inbound",
        json={
            "url": stack.api_url + "/webhooks/twilio/inbound",
            "from": "+447111000001",
            "to": tenant.number,
            "body": "Thanks, see you then",
        },
        timeout=60,
    ).raise_for_status()
    page.click("header >> text=Conversations")
    page.click("#conversations >> text=+447111000001")
    thread = page.inner_text("#thread")
    assert "Hi Ann, see you soon" in thread and "Thanks, see you then" in thread
    assert thread.index("Hi Ann") < thread.index("Thanks, see you then")


def test_upload_a_csv_unknown_placeholders_and_a_file_without_a_phone_column(
    page: Page, tenant: BrowserTenant, tmp_path: Path
) -> None:
    sign_in(page, tenant)
    good = tmp_path / "patients.csv"
    good.write_bytes('\ufeffName;Telephone;Day\n"Smith; Ann";+447111000011;Monday\n'.encode())
    new_campaign(page, "From a CSV", "Hi {{Name}}, see you {{Day}} at {{time}}")
    page.set_input_files("#csv_file", str(good))
    preview(page)
    assert page.inner_text("#valid-count") == "1"
    assert "Hi Smith; Ann, see you Monday at" in page.inner_text("#messages")
    assert "{{time}}" in page.inner_text(".unknown-placeholder")

    bad = tmp_path / "people.csv"
    bad.write_text("Name,Email\nAnn,ann@example.com\n")
    page.set_input_files("#csv_file", str(bad))
    preview(page)
    errors = page.inner_text("#form-errors")
    assert "no phone column" in errors and "'Name', 'Email'" in errors

    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    page.set_input_files("#csv_file", str(empty))
    preview(page)
    page.wait_for_selector("#form-errors:has-text('the file is empty')")

    # Over the limit: said at once, before anything is uploaded.
    huge = tmp_path / "huge.csv"
    huge.write_bytes(b"phone,note\n" + b"+447111000011," + b"x" * (21 * 1024 * 1024) + b"\n")
    page.set_input_files("#csv_file", str(huge))
    page.wait_for_selector("#form-errors:has-text('the limit is 20 MB')")


def test_schedule_then_cancel(page: Page, stack: Stack, tenant: BrowserTenant) -> None:
    sign_in(page, tenant)
    new_campaign(page, "Scheduled from the browser")
    page.fill("#recipients_text", "+447111000021 +447111000022")
    at = datetime.now(UTC) + timedelta(seconds=CLOCK_OFFSET, days=30)
    page.fill("#scheduled_at", at.strftime("%Y-%m-%dT%H:%M"))
    preview(page)
    page.click("#schedule")
    page.wait_for_url(re.compile(r"/dashboard/campaigns/smsc_"))
    page.wait_for_selector("#campaign-status:text-is('scheduled')")
    page.click("#cancel-button")
    page.wait_for_selector("#campaign-status:text-is('cancelled')")
    [campaign] = api_campaigns(stack, tenant)
    assert campaign["status"] == "cancelled" and campaign["cancelled_count"] == 2


def test_send_clicked_twice_makes_one_campaign(
    page: Page, stack: Stack, tenant: BrowserTenant
) -> None:
    sign_in(page, tenant)
    new_campaign(page, "Clicked twice")
    page.fill("#recipients_text", "+447111000031")
    preview(page)
    # Two submissions of the same form, as a double click or a resubmission would make.
    page.evaluate("submitAs('draft'); submitAs('draft')")
    # Each answer redirects to the same page: the second navigation may abort the first.
    page.wait_for_selector("#campaign-status:text-is('draft')")
    assert "/dashboard/campaigns/smsc_" in page.url
    wait_for(lambda: len(api_campaigns(stack, tenant)) == 1)
    assert [c["name"] for c in api_campaigns(stack, tenant)] == ["Clicked twice"]


def test_a_100000_row_csv_from_upload_to_preview(
    page: Page, tenant: BrowserTenant, tmp_path: Path, figure: Callable[[str], None]
) -> None:
    sign_in(page, tenant)
    rows = "\n".join(f"+4471{i:08d},Name {i},{i % 28 + 1}" for i in range(100_000))
    big = tmp_path / "big.csv"
    big.write_text("phone,name,day\n" + rows + "\n")
    new_campaign(page, "A big one", "Hi {{name}}, your slot is on day {{day}}")
    page.set_input_files("#csv_file", str(big))
    started = time.monotonic()
    page.click("#preview-button")
    page.wait_for_selector("#valid-count", timeout=TIMEOUT_MS * 3)
    took = time.monotonic() - started
    assert page.inner_text("#valid-count") == "100000"
    size = big.stat().st_size / 1024 / 1024
    figure(f"dashboard: a 100,000-row CSV ({size:.1f} MB), upload to preview shown: {took:.1f} s")


def wait_for(check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("the condition did not hold in time")
        time.sleep(0.2)
