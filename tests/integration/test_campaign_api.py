"""The campaign API over HTTP (in-process), on real PostgreSQL."""

from datetime import timedelta

from litestar.testing import TestClient

from interfaces.bootstrap import Herald
from tests.conftest import now
from tests.integration.conftest import Tenant, campaign_body

SEED_FIELDS = {
    "campaign_id",
    "status",
    "total_count",
    "delivered_count",
    "failed_count",
    "pending_count",
    "source",
}


def fields(response) -> list[str]:
    return [d["field"] for d in response.json()["error"]["details"]]


def test_seed_example_creates_a_running_campaign(client: TestClient, tenant: Tenant) -> None:
    response = client.post("/v1/sms/campaigns", json=campaign_body(tenant), headers=tenant.headers)
    assert response.status_code == 201
    body = response.json()
    assert body.keys() >= SEED_FIELDS
    assert body["campaign_id"].startswith("smsc_")
    assert (body["status"], body["source"]) == ("running", "api")
    assert (
        body["total_count"],
        body["pending_count"],
        body["delivered_count"],
        body["failed_count"],
    ) == (2, 2, 0, 0)
    assert body["status_counts"] == {"pending": 2}
    assert body["segments_total"] == 2
    assert body["estimated_cost"] == {"amount": "0.08", "currency": "GBP"}


def test_get_shows_the_recipients_right_after_create(client: TestClient, tenant: Tenant) -> None:
    created = client.post(
        "/v1/sms/campaigns", json=campaign_body(tenant), headers=tenant.headers
    ).json()
    body = client.get(f"/v1/sms/campaigns/{created['campaign_id']}", headers=tenant.headers).json()
    assert body["name"] == "March promotion"
    recipient = body["recipients"][0]
    assert recipient["phone"] == "+447111000001"
    assert recipient["variables"] == {"first_name": "Sarah"}
    assert recipient["status"] == "pending"
    assert {
        "twilio_sid",
        "error_code",
        "error_message",
        "message_id",
        "updated_at",
    } <= recipient.keys()


def test_recipients_page_through_every_recipient_once(client: TestClient, tenant: Tenant) -> None:
    recipients = [{"phone": f"+4471110{i:05d}"} for i in range(250)]
    created = client.post(
        "/v1/sms/campaigns",
        json=campaign_body(tenant, recipients=recipients),
        headers=tenant.headers,
    ).json()
    url = f"/v1/sms/campaigns/{created['campaign_id']}"
    page = client.get(url, params={"limit": 100}, headers=tenant.headers).json()
    seen = [r["phone"] for r in page["recipients"]]
    cursor = page["next_cursor"]
    while cursor:
        page = client.get(
            f"{url}/recipients", params={"cursor": cursor, "limit": 70}, headers=tenant.headers
        ).json()
        seen += [r["phone"] for r in page["recipients"]]
        cursor = page["next_cursor"]
    assert seen == [r["phone"] for r in recipients]


def test_duplicates_are_removed_and_reported(client: TestClient, tenant: Tenant) -> None:
    recipients = [
        {"phone": "+447111000001"},
        {"phone": "+447111000001"},
        {"phone": "+447111000002"},
    ]
    body = client.post(
        "/v1/sms/campaigns",
        json=campaign_body(tenant, recipients=recipients),
        headers=tenant.headers,
    ).json()
    assert (body["total_count"], body["duplicates_removed"]) == (2, 1)


def test_opted_out_phones_become_suppressed(
    client: TestClient, tenant: Tenant, herald: Herald
) -> None:
    herald.consents.opt_out(tenant.account_id, "+447111000002", "STOP", "test", "SMxx")
    body = client.post(
        "/v1/sms/campaigns", json=campaign_body(tenant), headers=tenant.headers
    ).json()
    assert body["status_counts"] == {"pending": 1, "suppressed": 1}
    assert (body["suppressed_count"], body["pending_count"], body["total_count"]) == (1, 1, 2)
    assert body["segments_total"] == 1


def test_list_is_newest_first_with_counts_and_pages(client: TestClient, tenant: Tenant) -> None:
    names = [f"c{i}" for i in range(3)]
    for name in names:
        client.post(
            "/v1/sms/campaigns", json=campaign_body(tenant, name=name), headers=tenant.headers
        )
    first = client.get("/v1/sms/campaigns", params={"limit": 2}, headers=tenant.headers).json()
    rest = client.get(
        "/v1/sms/campaigns",
        params={"limit": 2, "cursor": first["next_cursor"]},
        headers=tenant.headers,
    ).json()
    listed = [c["name"] for c in first["campaigns"] + rest["campaigns"]]
    assert listed == names[::-1]
    assert rest["next_cursor"] is None
    assert all(c["total_count"] == 2 for c in first["campaigns"])


def test_list_filters_by_status_and_source(client: TestClient, tenant: Tenant) -> None:
    client.post(
        "/v1/sms/campaigns",
        json=campaign_body(tenant, schedule_type="draft"),
        headers=tenant.headers,
    )
    client.post("/v1/sms/campaigns", json=campaign_body(tenant), headers=tenant.headers)
    drafts = client.get(
        "/v1/sms/campaigns", params={"status": "draft"}, headers=tenant.headers
    ).json()
    assert [c["status"] for c in drafts["campaigns"]] == ["draft"]
    dashboard = client.get(
        "/v1/sms/campaigns", params={"source": "dashboard"}, headers=tenant.headers
    ).json()
    assert dashboard["campaigns"] == []


def test_scheduled_campaign_waits_and_can_be_cancelled(client: TestClient, tenant: Tenant) -> None:
    at = (now() + timedelta(days=1)).isoformat()
    body = client.post(
        "/v1/sms/campaigns",
        json=campaign_body(tenant, schedule_type="schedule", scheduled_at=at),
        headers=tenant.headers,
    ).json()
    assert body["status"] == "scheduled"
    cancelled = client.delete(f"/v1/sms/campaigns/{body['campaign_id']}", headers=tenant.headers)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["status_counts"] == {"cancelled": 2}


def test_cancelling_twice_is_a_conflict(client: TestClient, tenant: Tenant) -> None:
    body = client.post(
        "/v1/sms/campaigns", json=campaign_body(tenant), headers=tenant.headers
    ).json()
    url = f"/v1/sms/campaigns/{body['campaign_id']}"
    assert client.delete(url, headers=tenant.headers).status_code == 200
    again = client.delete(url, headers=tenant.headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"


def test_a_draft_launches_into_running(client: TestClient, tenant: Tenant) -> None:
    body = client.post(
        "/v1/sms/campaigns",
        json=campaign_body(tenant, schedule_type="draft"),
        headers=tenant.headers,
    ).json()
    assert body["status"] == "draft"
    launched = client.post(
        f"/v1/sms/campaigns/{body['campaign_id']}/launch", headers=tenant.headers
    )
    assert launched.json()["status"] == "running"
    assert (
        client.post(
            f"/v1/sms/campaigns/{body['campaign_id']}/launch", headers=tenant.headers
        ).status_code
        == 409
    )


def test_sender_pool_from_numbers(client: TestClient, tenant: Tenant) -> None:
    second = "+447446499999"
    client.post(
        "/v1/numbers",
        json={"phone_number": second, "agent_id": tenant.agent_id, "mps": 3},
        headers=tenant.headers,
    )
    body = campaign_body(tenant, from_numbers=[tenant.from_number, second])
    del body["from_number"]
    created = client.post("/v1/sms/campaigns", json=body, headers=tenant.headers).json()
    assert created["from_numbers"] == [tenant.from_number, second]


def test_idempotency_key_replays_the_same_campaign(client: TestClient, tenant: Tenant) -> None:
    headers = {**tenant.headers, "Idempotency-Key": "march-1"}
    first = client.post("/v1/sms/campaigns", json=campaign_body(tenant), headers=headers)
    again = client.post("/v1/sms/campaigns", json=campaign_body(tenant), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["campaign_id"] == again.json()["campaign_id"]
    other = client.post(
        "/v1/sms/campaigns", json=campaign_body(tenant, name="Else"), headers=headers
    )
    assert other.status_code == 409
    listed = client.get("/v1/sms/campaigns", headers=tenant.headers).json()["campaigns"]
    assert len(listed) == 1


def test_openapi_schema_is_served(client: TestClient) -> None:
    schema = client.get("/schema/openapi.json").json()
    assert "/v1/sms/campaigns" in schema["paths"]
    assert client.get("/healthz").json() == {"status": "ok"}


def test_a_cancelled_campaign_keeps_no_paused_reason(client: TestClient, tenant: Tenant) -> None:
    body = client.post(
        "/v1/sms/campaigns",
        json=campaign_body(tenant, schedule_type="draft"),
        headers=tenant.headers,
    ).json()
    url = f"/v1/sms/campaigns/{body['campaign_id']}"
    client.post(f"{url}/launch", headers=tenant.headers)
    paused = client.post(f"{url}/pause", headers=tenant.headers).json()
    assert paused["paused_reason"] == "paused by request"
    cancelled = client.delete(url, headers=tenant.headers).json()
    assert (cancelled["status"], cancelled["paused_reason"]) == ("cancelled", None)
    listed = client.get("/v1/sms/campaigns", headers=tenant.headers).json()["campaigns"]
    assert listed[0]["paused_reason"] is None
