"""POST /v1/sms and GET /v1/sms/{id}."""

from datetime import UTC, datetime

from litestar.testing import TestClient

from interfaces.api.app import create_app
from interfaces.bootstrap import Herald
from tests.conftest import FixedClock
from tests.integration.conftest import Tenant, sharing


def sms(tenant: Tenant, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "agent_id": tenant.agent_id,
        "to": "+447386172392",
        "from_number": tenant.from_number,
        "message": "Reminder: your appointment is tomorrow at 2pm. Reply YES to confirm or NO to reschedule.",
    }
    body.update(changes)
    return body


def test_seed_example_is_accepted_and_readable(client: TestClient, tenant: Tenant) -> None:
    response = client.post("/v1/sms", json=sms(tenant), headers=tenant.headers)
    assert response.status_code == 201
    body = response.json()
    assert {"message_id", "status", "to", "from_number", "segments", "twilio_sid"} <= body.keys()
    assert (body["to"], body["from_number"], body["status"], body["segments"]) == (
        "+447386172392",
        tenant.from_number,
        "pending",
        1,
    )
    fetched = client.get(f"/v1/sms/{body['message_id']}", headers=tenant.headers).json()
    assert fetched["status"] == "pending"
    assert fetched["conversation"][0]["body"] == sms(tenant)["message"]


def test_opted_out_recipient_is_refused(client: TestClient, tenant: Tenant, herald: Herald) -> None:
    herald.consents.opt_out(tenant.account_id, "+447386172392", "STOP", "test", "SMx")
    response = client.post("/v1/sms", json=sms(tenant), headers=tenant.headers)
    assert response.status_code == 422
    assert [d["code"] for d in response.json()["error"]["details"]] == ["recipient_opted_out"]


def test_opting_back_in_allows_sending_again(
    client: TestClient, tenant: Tenant, herald: Herald
) -> None:
    herald.consents.opt_out(tenant.account_id, "+447386172392", "STOP", "test", "SMx")
    herald.consents.opt_in(tenant.account_id, "+447386172392", "test", "START")
    assert client.post("/v1/sms", json=sms(tenant), headers=tenant.headers).status_code == 201


def test_every_problem_of_a_single_sms_is_listed(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        "/v1/sms",
        json=sms(tenant, to="+1415555", message="x" * 1601, from_number="+447446400777"),
        headers=tenant.headers,
    )
    assert response.status_code == 422
    assert [(d["field"], d["code"]) for d in response.json()["error"]["details"]] == [
        ("from_number", "unknown_from_number"),
        ("to", "invalid_number"),
        ("message", "message_too_long"),
    ]


def test_unknown_message_is_404(client: TestClient, tenant: Tenant) -> None:
    assert client.get("/v1/sms/SM" + "0" * 32, headers=tenant.headers).status_code == 404
    assert client.get("/v1/sms/msg_" + "0" * 32, headers=tenant.headers).status_code == 404


TEN_PAST_TEN_IN_LONDON = datetime(2026, 11, 26, 22, 10, tzinfo=UTC)


def send_at_ten_past_ten(herald: Herald, tenant: Tenant) -> dict[str, object]:
    evening = sharing(herald, clock=FixedClock(TEN_PAST_TEN_IN_LONDON))
    with TestClient(create_app(evening, follow_projection=False)) as client:
        response = client.post("/v1/sms", json=sms(tenant), headers=tenant.headers)
    assert response.status_code == 201
    body: dict[str, object] = response.json()
    return body


def test_a_single_sms_in_quiet_hours_is_deferred_until_nine(herald: Herald) -> None:
    tenant = Tenant(herald, quiet_hours=("21:00", "09:00"))
    body = send_at_ten_past_ten(herald, tenant)
    assert body["status"] == "pending"
    assert body["deferred_until"] == "2026-11-27T09:00:00Z"


def test_a_single_sms_follows_its_accounts_own_window(herald: Herald) -> None:
    assert send_at_ten_past_ten(herald, Tenant(herald)).get("deferred_until") is None  # off
    late = Tenant(herald, quiet_hours=("23:00", "07:30"))
    assert send_at_ten_past_ten(herald, late).get("deferred_until") is None
    early = Tenant(herald, quiet_hours=("22:00", "07:30"))
    assert send_at_ten_past_ten(herald, early)["deferred_until"] == "2026-11-27T07:30:00Z"
