"""The dashboard over HTTP, in process: sign-in, CSRF, previews, bad input, one campaign per
form, another account's campaign. (tests/browser/ drives the same pages in Chromium.)"""

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from domain import ids
from interfaces.api.app import create_app
from interfaces.bootstrap import Herald
from interfaces.dashboard.auth import dashboard_secret, link_token, sign_in_link
from tests.integration.conftest import Tenant


@pytest.fixture
def browser(herald: Herald) -> Iterator[TestClient]:  # type: ignore[type-arg]
    """A client with its own cookies, as one browser."""
    with TestClient(create_app(herald, follow_projection=False)) as test_client:
        yield test_client


def csrf(client: TestClient) -> str:  # type: ignore[type-arg]
    if "herald_csrf" not in client.cookies:
        client.get("/dashboard/signin")
    return str(client.cookies["herald_csrf"])


def sign_in(client: TestClient, tenant: Tenant) -> None:  # type: ignore[type-arg]
    answer = client.post(
        "/dashboard/signin",
        data={"api_key": tenant.key, "_csrf_token": csrf(client)},
        follow_redirects=False,
    )
    assert answer.status_code in (301, 302, 303), answer.text
    assert answer.headers["location"] == "/dashboard/"


def form(tenant: Tenant, action: str = "preview", **changes: Any) -> dict[str, Any]:
    values = {
        "name": "Dashboard test",
        "agent_id": tenant.agent_id,
        "from_numbers": tenant.from_number,
        "message_template": "Hi {{name}}",
        "recipients_text": "phone,name\n+447111000001,Ann\n+447111000002,Bob\n",
        "action": action,
        "form_key": "k-" + action,
        "page": "1",
    }
    values.update(changes)
    return values


def submit(
    client: TestClient,  # type: ignore[type-arg]
    values: dict[str, Any],
    files: dict[str, Any] | None = None,
) -> Any:
    return client.post(
        "/dashboard/campaigns/new",
        data=values,
        files=files or {"csv_file": ("", b"", "application/octet-stream")},
        headers={"x-csrftoken": csrf(client), "hx-request": "true"},
    )


def test_pages_need_a_session_and_the_api_still_needs_its_key(
    browser: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
) -> None:
    assert browser.get("/", follow_redirects=False).headers["location"] == "/dashboard/"
    page = browser.get("/dashboard/", follow_redirects=False)
    assert page.headers["location"] == "/dashboard/signin"
    assert browser.get("/v1/sms/campaigns").status_code == 401
    assert browser.get("/v1/sms/campaigns", headers=tenant.headers).status_code == 200
    wrong = browser.post(
        "/dashboard/signin", data={"api_key": "key_x:nope", "_csrf_token": csrf(browser)}
    )
    assert wrong.status_code == 401 and "not valid" in wrong.text
    sign_in(browser, tenant)
    listed = browser.get("/dashboard/")
    assert listed.status_code == 200 and "No campaigns" in listed.text
    session = browser.cookies["herald_session"]
    assert tenant.key.split(":")[1] not in session
    # The session id alone (one planted before signing in, say) is not signed in.
    with TestClient(browser.app) as other:
        other.cookies.set("herald_session", session)
        assert other.get("/dashboard/", follow_redirects=False).status_code in (302, 303)
        other.cookies.set("herald_signed_in", browser.cookies["herald_signed_in"])
        assert other.get("/dashboard/", follow_redirects=False).status_code == 200
    browser.post("/dashboard/signout", data={"_csrf_token": csrf(browser)})
    page = browser.get("/dashboard/", follow_redirects=False)
    assert page.headers["location"] == "/dashboard/signin"


def test_a_form_without_its_csrf_token_is_refused(
    browser: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
) -> None:
    refused = browser.post("/dashboard/signin", data={"api_key": tenant.key})
    assert refused.status_code == 403
    sign_in(browser, tenant)
    refused = browser.post("/dashboard/campaigns/new", data=form(tenant, "now"))
    assert refused.status_code == 403
    forged = browser.post(
        "/dashboard/campaigns/new", data=form(tenant, "now"), headers={"x-csrftoken": "forged"}
    )
    assert forged.status_code == 403
    api = browser.get("/v1/sms/campaigns", headers=tenant.headers).json()
    assert api["campaigns"] == []


def test_preview_shows_bad_rows_with_reasons_and_warns_of_unknown_placeholders(
    browser: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
) -> None:
    sign_in(browser, tenant)
    text = "phone,name\n+447111000001,Ann\nnot-a-phone,Bob\n+447111000001,Ann\n+447111000003,Cy\n"
    answer = submit(browser, form(tenant, recipients_text=text, message_template="Hi {{nme}}"))
    assert answer.status_code == 200, answer.text
    assert re.search(r'id="valid-count">2<', answer.text)
    assert re.search(r'id="invalid-count">1<', answer.text)
    assert "not-a-phone" in answer.text
    assert "<code>{{nme}}</code> matches no column" in answer.text
    assert browser.get("/v1/sms/campaigns", headers=tenant.headers).json()["campaigns"] == []


def test_csv_upload_bad_files(
    browser: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
) -> None:
    sign_in(browser, tenant)
    no_phone = submit(
        browser, form(tenant), {"csv_file": ("people.csv", b"Name,Email\nAnn,a@x\n", "text/csv")}
    )
    assert no_phone.status_code == 422
    assert "headers found: &#39;Name&#39;, &#39;Email&#39;" in no_phone.text
    empty = submit(browser, form(tenant), {"csv_file": ("empty.csv", b"", "text/csv")})
    assert empty.status_code == 422 and "the file is empty" in empty.text
    semicolons = "\ufeffMobile;name\n+447111000001;Ann\n".encode()
    good = submit(browser, form(tenant), {"csv_file": ("ok.csv", semicolons, "text/csv")})
    assert good.status_code == 200 and "Hi Ann" in good.text


def test_a_10_mb_file_is_answered_promptly(
    browser: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
) -> None:
    sign_in(browser, tenant)
    filler = "x" * 180
    rows = [f"+4471{i:08d},{filler}" for i in range(55_000)]
    data = ("phone,note\n" + "\n".join(rows)).encode()
    assert len(data) > 10 * 1024 * 1024
    started = time.monotonic()
    answer = submit(browser, form(tenant), {"csv_file": ("big.csv", data, "text/csv")})
    took = time.monotonic() - started
    assert answer.status_code == 200, answer.text[:500]
    assert re.search(r'id="valid-count">55000<', answer.text)
    assert took < 60
    too_big = data * 2
    refused = submit(browser, form(tenant), {"csv_file": ("huge.csv", too_big, "text/csv")})
    assert refused.status_code == 422 and "the limit is 20 MB" in refused.text


def test_the_form_submitted_twice_makes_one_campaign_that_the_api_agrees_with(
    browser: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
) -> None:
    sign_in(browser, tenant)
    values = form(tenant, "draft", form_key="twice")
    first, second = submit(browser, values), submit(browser, values)
    assert first.headers["hx-redirect"] == second.headers["hx-redirect"]
    campaigns = browser.get("/v1/sms/campaigns", headers=tenant.headers).json()["campaigns"]
    assert len(campaigns) == 1
    assert campaigns[0]["source"] == "dashboard" and campaigns[0]["status"] == "draft"
    page = browser.get(first.headers["hx-redirect"])
    assert page.status_code == 200
    assert re.search(r'id="total-count">2<', page.text)
    listed = browser.get("/dashboard/?status=draft")
    assert "Dashboard test" in listed.text and "src-dashboard" in listed.text
    launched = browser.post(
        f"{first.headers['hx-redirect']}/launch", data={"_csrf_token": csrf(browser)}
    )
    assert 'id="campaign-status">running<' in launched.text
    assert browser.get("/dashboard/?status=draft").text.count("Dashboard test") == 0


def test_preview_pages_of_rendered_messages_and_the_template_counter(
    browser: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
) -> None:
    sign_in(browser, tenant)
    text = "\n".join(f"+4471110{i:05d}" for i in range(45))
    second = submit(browser, form(tenant, recipients_text=text, page="2"))
    assert second.status_code == 200
    assert "+447111000020" in second.text and "+447111000019" not in second.text
    assert "Page 2 of 3" in second.text
    counter = browser.post(
        "/dashboard/campaigns/template",
        data={"message_template": "Zoë {{ first }} " + "x" * 600},
        headers={"x-csrftoken": csrf(browser)},
    )
    assert "UCS-2 because of: <code>ë</code>" in counter.text
    assert "<code>{{first}}</code>" in counter.text and "Over 600 characters" in counter.text


def test_cancel_a_scheduled_campaign_and_another_accounts_campaign_is_not_found(
    browser: TestClient,  # type: ignore[type-arg]
    herald: Herald,
    tenant: Tenant,
) -> None:
    sign_in(browser, tenant)
    at = herald.clock.now().replace(microsecond=0, second=0).isoformat()[:16]
    year = str(int(at[:4]) + 1)
    answer = submit(browser, form(tenant, "schedule", scheduled_at=year + at[4:]))
    url = answer.headers["hx-redirect"]
    assert "scheduled" in browser.get(url).text
    cancelled = browser.post(f"{url}/cancel", data={"_csrf_token": csrf(browser)})
    assert cancelled.status_code == 200
    assert 'id="campaign-status">cancelled<' in cancelled.text
    campaign_id = url.rsplit("/", 1)[1]
    api = browser.get(f"/v1/sms/campaigns/{campaign_id}", headers=tenant.headers).json()
    assert api["status"] == "cancelled"
    # Its live progress (Server-Sent Events): the state once, then the end of the stream.
    events = browser.get(f"{url}/events")
    assert events.headers["content-type"].startswith("text/event-stream")
    assert "event: progress" in events.text and '"status": "cancelled"' in events.text
    assert events.text.rstrip().endswith(f"event: end\r\ndata: {campaign_id}")

    other = Tenant(herald)
    with TestClient(create_app(herald, follow_projection=False)) as stranger:
        sign_in(stranger, other)
        assert stranger.get(url).status_code == 404
        assert stranger.get(f"{url}/live").status_code == 404
        assert stranger.get(f"{url}/events").status_code == 404
        refused = stranger.post(f"{url}/cancel", data={"_csrf_token": csrf(stranger)})
        assert refused.status_code == 404
        assert stranger.get("/dashboard/campaigns/smsc_nonsense").status_code == 404


def test_herald_ups_sign_in_link_names_the_key_not_its_secret_and_expires(
    browser: TestClient,  # type: ignore[type-arg]
    herald: Herald,
    tenant: Tenant,
) -> None:
    secret = dashboard_secret(herald.settings)
    link = sign_in_link("", secret, tenant.key)
    assert tenant.key.split(":")[1] not in link
    tampered = link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb")
    assert browser.get(tampered, follow_redirects=False).status_code == 401
    key_id = ids.parse_public_id(ids.KEY, tenant.key.split(":")[0])
    assert key_id is not None
    expired = "/dashboard/signin/link?token=" + link_token(secret, key_id, now=0)
    assert browser.get(expired, follow_redirects=False).status_code == 401
    for junk in ("é.1.é", "", "...", "\x00"):
        answer = browser.get("/dashboard/signin/link", params={"token": junk})
        assert answer.status_code == 401
    signed_in = browser.get(link, follow_redirects=False)
    assert signed_in.headers["location"] == "/dashboard/"
    assert browser.get("/dashboard/").status_code == 200


def test_conversations_pages_for_an_account_without_any(
    browser: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
) -> None:
    sign_in(browser, tenant)
    listed = browser.get("/dashboard/conversations/")
    assert listed.status_code == 200 and "No conversations" in listed.text
    odd = browser.get("/dashboard/conversations/", params={"phone": "+44\x00"})
    assert odd.status_code == 200 and "No conversations" in odd.text
    missing = browser.get("/dashboard/conversations/conv_00000000000000000000000000000000")
    assert missing.status_code == 404
