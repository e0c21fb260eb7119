"""Every kind of bad input: a clear error naming field and value, no 5xx, nothing half-written."""

import pytest
from litestar.testing import TestClient

from application.directory import AddNumber
from interfaces.api.app import create_app
from interfaces.bootstrap import Herald
from tests.integration.conftest import Tenant, campaign_body, sharing

CAMPAIGNS = "/v1/sms/campaigns"


def details(response) -> list[dict]:
    return response.json()["error"]["details"]


def field_codes(response) -> list[tuple[str, str]]:
    return [(d["field"], d["code"]) for d in details(response)]


def count_campaigns(client: TestClient, tenant: Tenant) -> int:
    return len(client.get(CAMPAIGNS, headers=tenant.headers).json()["campaigns"])


def test_malformed_json_is_400(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        CAMPAIGNS,
        content=b'{"name": ',
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"


def test_missing_fields_are_each_named(client: TestClient, tenant: Tenant) -> None:
    response = client.post(CAMPAIGNS, json={}, headers=tenant.headers)
    assert response.status_code == 422
    assert field_codes(response) == [
        ("agent_id", "required"),
        ("name", "required"),
        ("message_template", "required"),
        ("recipients", "required"),
    ]


def test_wrong_types_are_each_named_with_their_value(client: TestClient, tenant: Tenant) -> None:
    body = campaign_body(
        tenant,
        name=5,
        recipients=[
            {"phone": "+447111000001"},
            {"phone": 7},
            {"phone": "+447111000003", "variables": {"a": [1]}},
        ],
        schedule_type="later",
    )
    response = client.post(CAMPAIGNS, json=body, headers=tenant.headers)
    assert response.status_code == 422
    assert [(d["field"], d["value"]) for d in details(response)] == [
        ("name", 5),
        ("recipients[1].phone", 7),
        ("recipients[2].variables", {"a": [1]}),
        ("schedule_type", "later"),
    ]
    assert [d.get("index") for d in details(response)][1:3] == [1, 2]


def test_wrong_types_and_bad_phones_are_listed_together(client: TestClient, tenant: Tenant) -> None:
    recipients = [{"phone": "07111000001"}, {"phone": 7}, {"phone": "+14155552671"}]
    response = client.post(
        CAMPAIGNS, json=campaign_body(tenant, recipients=recipients), headers=tenant.headers
    )
    assert response.status_code == 422
    assert sorted((d["index"], d["code"]) for d in details(response)) == [
        (0, "not_e164"),
        (1, "wrong_type"),
        (2, "country_not_allowed"),
    ]


def test_invalid_phones_list_every_index_and_reason(client: TestClient, tenant: Tenant) -> None:
    recipients = [
        {"phone": "+447111000001"},
        {"phone": "07111000002"},
        {"phone": "+14155552671"},
        {"phone": "+4471"},
    ]
    response = client.post(
        CAMPAIGNS, json=campaign_body(tenant, recipients=recipients), headers=tenant.headers
    )
    assert response.status_code == 422
    assert [(d["index"], d["value"], d["code"]) for d in details(response)] == [
        (1, "07111000002", "not_e164"),
        (2, "+14155552671", "country_not_allowed"),
        (3, "+4471", "invalid_number"),
    ]
    assert count_campaigns(client, tenant) == 0


def test_on_invalid_skip_creates_with_the_valid_ones_and_reports_the_rest(
    client: TestClient, tenant: Tenant
) -> None:
    recipients = [{"phone": "+447111000001"}, {"phone": "07111000002"}]
    response = client.post(
        CAMPAIGNS,
        json=campaign_body(tenant, recipients=recipients, on_invalid="skip"),
        headers=tenant.headers,
    )
    assert response.status_code == 201
    body = response.json()
    assert body["total_count"] == 1
    assert [(s["index"], s["code"]) for s in body["skipped"]] == [(1, "not_e164")]


def test_rendered_message_over_1600_is_refused(client: TestClient, tenant: Tenant) -> None:
    recipients = [{"phone": "+447111000001", "variables": {"first_name": "x" * 1600}}]
    response = client.post(
        CAMPAIGNS, json=campaign_body(tenant, recipients=recipients), headers=tenant.headers
    )
    assert response.status_code == 422
    assert field_codes(response) == [("recipients[0].message", "message_too_long")]


def test_long_message_gives_a_warning(client: TestClient, tenant: Tenant) -> None:
    recipients = [{"phone": "+447111000001", "variables": {"first_name": "x" * 650}}]
    response = client.post(
        CAMPAIGNS, json=campaign_body(tenant, recipients=recipients), headers=tenant.headers
    )
    assert response.status_code == 201
    assert "over 600 characters" in response.json()["warnings"][0]


def test_unknown_agent_and_foreign_number_are_refused(
    client: TestClient, tenant: Tenant, herald: Herald
) -> None:
    other = Tenant(herald)
    body = campaign_body(tenant, agent_id=other.agent_id, from_number=other.from_number)
    response = client.post(CAMPAIGNS, json=body, headers=tenant.headers)
    assert response.status_code == 422
    assert field_codes(response) == [
        ("agent_id", "unknown_agent"),
        ("from_number", "unknown_from_number"),
    ]


def test_number_of_another_agent_is_refused(client: TestClient, tenant: Tenant) -> None:
    agent = client.post("/v1/agents", json={"name": "Other"}, headers=tenant.headers).json()[
        "agent_id"
    ]
    response = client.post(
        CAMPAIGNS, json=campaign_body(tenant, agent_id=agent), headers=tenant.headers
    )
    assert field_codes(response) == [("from_number", "unknown_from_number")]
    assert "another agent" in details(response)[0]["message"]


@pytest.mark.parametrize(
    ("scheduled_at", "code"),
    [
        (None, "required"),
        ("next tuesday", "wrong_type"),
        ("2001-01-01T09:00:00Z", "in_past"),
        ("2099-01-01T09:00:00", "invalid_datetime"),
    ],
)
def test_bad_scheduled_at_is_refused(
    client: TestClient, tenant: Tenant, scheduled_at: str | None, code: str
) -> None:
    body = campaign_body(tenant, schedule_type="schedule", scheduled_at=scheduled_at)
    response = client.post(CAMPAIGNS, json=body, headers=tenant.headers)
    assert response.status_code == 422
    assert field_codes(response) == [("scheduled_at", code)]


def test_empty_recipients_are_refused(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        CAMPAIGNS, json=campaign_body(tenant, recipients=[]), headers=tenant.headers
    )
    assert field_codes(response) == [("recipients", "required")]


def test_too_many_recipients_are_refused(herald: Herald, tenant: Tenant) -> None:
    small = sharing(herald, herald.settings.with_(max_recipients=2))
    with TestClient(create_app(small, follow_projection=False)) as client:
        recipients = [{"phone": f"+44711100000{i}"} for i in range(3)]
        response = client.post(
            CAMPAIGNS, json=campaign_body(tenant, recipients=recipients), headers=tenant.headers
        )
    assert response.status_code == 422
    assert field_codes(response) == [("recipients", "too_many_recipients")]


def test_oversized_body_is_413(herald: Herald, tenant: Tenant) -> None:
    small = sharing(herald, herald.settings.with_(max_body_bytes=1000))
    with TestClient(create_app(small, follow_projection=False)) as client:
        recipients = [{"phone": f"+4471110{i:05d}"} for i in range(100)]
        response = client.post(
            CAMPAIGNS, json=campaign_body(tenant, recipients=recipients), headers=tenant.headers
        )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Bearer nonsense",
        "Basic abc",
        "Bearer key_00000000000000000000000000000000:secret",
    ],
)
def test_missing_or_bad_credentials_are_401_without_a_hint(
    client: TestClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get(CAMPAIGNS, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "missing or invalid credentials"


def test_right_key_with_wrong_secret_is_the_same_401(client: TestClient, tenant: Tenant) -> None:
    key_id = tenant.key.split(":")[0]
    response = client.get(CAMPAIGNS, headers={"Authorization": f"Bearer {key_id}:wrong"})
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "missing or invalid credentials"


def test_revoked_key_is_refused(client: TestClient, tenant: Tenant, herald: Herald) -> None:
    assert client.get(CAMPAIGNS, headers=tenant.headers).status_code == 200
    herald.directory.revoke_key(tenant.account_id, tenant.key.split(":")[0])
    assert client.get(CAMPAIGNS, headers=tenant.headers).status_code == 401


def test_another_accounts_ids_are_404(client: TestClient, tenant: Tenant, herald: Herald) -> None:
    other = Tenant(herald)
    campaign = client.post(CAMPAIGNS, json=campaign_body(other), headers=other.headers).json()[
        "campaign_id"
    ]
    sms = client.post(
        "/v1/sms",
        json={
            "agent_id": other.agent_id,
            "to": "+447111000001",
            "from_number": other.from_number,
            "message": "hi",
        },
        headers=other.headers,
    ).json()["message_id"]
    for method, url in [
        ("GET", f"{CAMPAIGNS}/{campaign}"),
        ("GET", f"{CAMPAIGNS}/{campaign}/recipients"),
        ("DELETE", f"{CAMPAIGNS}/{campaign}"),
        ("POST", f"{CAMPAIGNS}/{campaign}/launch"),
        ("GET", f"/v1/sms/{sms}"),
        ("GET", f"{CAMPAIGNS}/smsc_not-an-id"),
    ]:
        response = client.request(method, url, headers=tenant.headers)
        assert response.status_code == 404, (method, url)
        assert response.json()["error"]["code"] == "not_found"


def test_bad_query_parameters_are_422(client: TestClient, tenant: Tenant) -> None:
    for params in ({"limit": 0}, {"limit": 1001}, {"limit": "x"}, {"status": "bogus"}):
        response = client.get(CAMPAIGNS, params=params, headers=tenant.headers)
        assert response.status_code == 422, params


def test_bad_agent_and_number_requests(client: TestClient, tenant: Tenant) -> None:
    assert field_codes(client.post("/v1/agents", json={"name": ""}, headers=tenant.headers)) == [
        ("name", "required")
    ]
    response = client.post(
        "/v1/numbers",
        json={"phone_number": "12", "agent_id": "agent_x", "mps": 0},
        headers=tenant.headers,
    )
    assert field_codes(response) == [
        ("phone_number", "not_e164"),
        ("mps", "out_of_range"),
        ("agent_id", "unknown_agent"),
    ]
    duplicate = client.post(
        "/v1/numbers",
        json={"phone_number": tenant.from_number, "agent_id": tenant.agent_id},
        headers=tenant.headers,
    )
    assert duplicate.status_code == 409


def test_sender_number_can_be_added_to_an_own_agent_only(herald: Herald, tenant: Tenant) -> None:
    other = Tenant(herald)
    from application.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        herald.directory.add_number(
            tenant.account_id, AddNumber("+447446488888", other.agent_id, 1)
        )
