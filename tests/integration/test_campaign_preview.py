"""POST /v1/sms/campaigns/preview: create's report, with nothing recorded."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from litestar.testing import TestClient

from interfaces.bootstrap import Herald
from tests.integration.conftest import Tenant, campaign_body

PREVIEW = "/v1/sms/campaigns/preview"
APOSTROPHE = "\u2019"  # a typographic one: not in GSM-7
LONDON = ZoneInfo("Europe/London")


def events(herald: Herald) -> int:
    with herald.pool.connection() as conn:
        row = conn.execute("SELECT count(*) FROM herald_events").fetchone()
    assert row is not None
    return int(row[0])


def mixed_recipients() -> list[dict[str, object]]:
    return [
        {"phone": "+447111000001", "variables": {"first_name": "Sarah"}},
        {"phone": "+44711100", "variables": {"first_name": "Short"}},  # not a valid number
        {"phone": "+447111000001", "variables": {"first_name": "Sarah again"}},  # duplicate
        {"phone": "+447111000002", "variables": {"first_name": "James"}},  # opted out
        {"phone": "+447111000003", "variables": {"first_name": f"Zoë{APOSTROPHE}s"}},  # UCS-2
        {"phone": "12345"},  # not E.164
    ]


def test_preview_reports_what_create_would_and_records_nothing(
    client: TestClient, tenant: Tenant, herald: Herald
) -> None:
    herald.consents.opt_out(tenant.account_id, "+447111000002", "STOP", "test", "SMxx")
    before = events(herald)
    body = campaign_body(tenant, recipients=mixed_recipients(), on_invalid="skip")
    response = client.post(PREVIEW, json=body, headers=tenant.headers)
    assert response.status_code == 200, response.text
    report = response.json()
    assert events(herald) == before
    assert client.get("/v1/sms/campaigns", headers=tenant.headers).json()["campaigns"] == []

    assert (report["requested_count"], report["valid_count"], report["invalid_count"]) == (6, 3, 2)
    assert [(i["index"], i["phone"], i["code"]) for i in report["invalid"]] == [
        (1, "+44711100", "invalid_number"),
        (5, "12345", "not_e164"),
    ]
    assert all(i["reason"] for i in report["invalid"])
    assert report["duplicates_removed"] == 1
    assert (report["suppressed_count"], report["opted_out"]) == (1, ["+447111000002"])
    # Sarah's message is GSM-7 in one segment; Zoë's is UCS-2 (80 characters: two segments).
    assert report["encodings"] == {"GSM-7": 1, "UCS-2": 1}
    assert report["ucs2_characters"] == ["ë", APOSTROPHE]
    assert report["segments_total"] == 3
    assert report["estimated_cost"] == {"amount": "0.12", "currency": "GBP"}
    assert report["mps"] == 5
    assert [(m["index"], m["phone"], m["suppressed"]) for m in report["messages"]] == [
        (0, "+447111000001", False),
        (3, "+447111000002", True),
        (4, "+447111000003", False),
    ]
    sarah, _, zoe = report["messages"]
    assert sarah["message"].startswith("Hi Sarah, Acme Dental")
    assert (sarah["encoding"], sarah["segments"], sarah["ucs2_characters"]) == ("GSM-7", 1, [])
    assert (zoe["encoding"], zoe["segments"]) == ("UCS-2", 2)
    assert zoe["ucs2_characters"] == ["ë", APOSTROPHE]
    assert zoe["characters"] == len(zoe["message"])


def test_the_same_body_then_creates_the_campaign_the_preview_described(
    client: TestClient, tenant: Tenant
) -> None:
    body = campaign_body(tenant, recipients=mixed_recipients(), on_invalid="skip")
    report = client.post(PREVIEW, json=body, headers=tenant.headers).json()
    created = client.post("/v1/sms/campaigns", json=body, headers=tenant.headers).json()
    assert created["total_count"] == report["valid_count"]
    assert created["segments_total"] == report["segments_total"]
    assert created["duplicates_removed"] == report["duplicates_removed"]
    assert created["skipped_count"] == report["invalid_count"]
    assert created["estimated_cost"] == report["estimated_cost"]


def test_invalid_recipients_are_a_report_even_when_create_would_reject_them(
    client: TestClient, tenant: Tenant, herald: Herald
) -> None:
    before = events(herald)
    body = campaign_body(tenant, recipients=[{"phone": "+44711100"}, {"phone": "nope"}])
    response = client.post(PREVIEW, json=body, headers=tenant.headers)
    assert response.status_code == 200
    report = response.json()
    assert (report["valid_count"], report["invalid_count"]) == (0, 2)
    assert (report["starts_at"], report["messages"]) == (None, [])
    assert client.post("/v1/sms/campaigns", json=body, headers=tenant.headers).status_code == 422
    assert events(herald) == before


def test_a_malformed_body_or_invalid_campaign_fields_are_422_as_for_create(
    client: TestClient, tenant: Tenant, herald: Herald
) -> None:
    before = events(herald)
    wrong_types = campaign_body(tenant, name=5, recipients="+447111000001")
    response = client.post(PREVIEW, json=wrong_types, headers=tenant.headers)
    assert response.status_code == 422
    assert {d["field"] for d in response.json()["error"]["details"]} == {"name", "recipients"}
    unknown_agent = campaign_body(tenant, agent_id="agent_" + "0" * 32)
    response = client.post(PREVIEW, json=unknown_agent, headers=tenant.headers)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["code"] == "unknown_agent"
    no_recipients = client.post(
        PREVIEW, json=campaign_body(tenant, recipients=[]), headers=tenant.headers
    )
    assert no_recipients.status_code == 422
    assert events(herald) == before


def test_the_eta_counts_the_pace_and_waits_out_the_accounts_quiet_hours(
    client: TestClient, herald: Herald
) -> None:
    tenant = Tenant(herald, quiet_hours=("21:00", "09:00"))  # sender number at 5 mps
    tomorrow = datetime.now(LONDON).date() + timedelta(days=1)
    at = datetime.combine(tomorrow, datetime.min.time(), LONDON).replace(hour=23)
    recipients = [{"phone": f"+4471110{i:05d}"} for i in range(50)]
    body = campaign_body(
        tenant,
        recipients=recipients,
        schedule_type="schedule",
        scheduled_at=at.isoformat(),
        message_template="Hello",
    )
    report = client.post(PREVIEW, json=body, headers=tenant.headers).json()
    nine = datetime.combine(tomorrow + timedelta(days=1), datetime.min.time(), LONDON)
    nine = nine.replace(hour=9)
    assert datetime.fromisoformat(report["starts_at"]) == nine
    assert datetime.fromisoformat(report["estimated_completion_at"]) == nine + timedelta(seconds=10)

    off = Tenant(herald)  # quiet hours off: from the scheduled time at once
    body = {**body, "agent_id": off.agent_id, "from_number": off.from_number}
    report = client.post(PREVIEW, json=body, headers=off.headers).json()
    assert datetime.fromisoformat(report["starts_at"]) == at
    assert datetime.fromisoformat(report["estimated_completion_at"]) == at + timedelta(seconds=10)


def test_limit_pages_the_rendered_messages(client: TestClient, tenant: Tenant) -> None:
    body = campaign_body(tenant, recipients=[{"phone": f"+4471110{i:05d}"} for i in range(30)])
    assert len(client.post(PREVIEW, json=body, headers=tenant.headers).json()["messages"]) == 20
    some = client.post(PREVIEW, json=body, params={"limit": 3}, headers=tenant.headers).json()
    assert [m["index"] for m in some["messages"]] == [0, 1, 2]
    for bad in (0, 101, "x"):
        response = client.post(PREVIEW, json=body, params={"limit": bad}, headers=tenant.headers)
        assert response.status_code == 422
