"""Issue 9's findings, re-run as written: each answers 4xx in Herald's error shape, and
nothing is recorded."""

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

import interfaces.api.body
from interfaces.api.app import create_app
from interfaces.bootstrap import Herald
from interfaces.server import serve_in_thread
from tests.integration.conftest import Tenant, campaign_body

CAMPAIGNS = "/v1/sms/campaigns"
JSON = {"Content-Type": "application/json"}


def recorded(herald: Herald) -> int:
    with herald.pool.connection() as conn:
        row = conn.execute("SELECT count(*) FROM herald_events").fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def nothing_recorded(herald: Herald, tenant: Tenant) -> Iterator[None]:
    """The test's tenant is made first; nothing else may be recorded."""
    before = recorded(herald)
    yield
    assert recorded(herald) == before


def error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return dict(body["error"])


def codes(response: httpx.Response, status: int = 422) -> list[tuple[str, str]]:
    return [(d["field"], d["code"]) for d in error(response, status)["details"]]


def sms(tenant: Tenant, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "agent_id": tenant.agent_id,
        "to": "+447111000001",
        "from_number": tenant.from_number,
        "message": "Hi",
    }
    return body | changes


# 1. A NUL byte (or any control character) never reaches the event log.


@pytest.mark.usefixtures("nothing_recorded")
def test_nul_in_an_agent_name_is_refused(client: TestClient, tenant: Tenant) -> None:
    response = client.post("/v1/agents", json={"name": "a\u0000b"}, headers=tenant.headers)
    assert codes(response) == [("name", "control_character")]
    assert error(response, 422)["details"][0]["value"] == "a\\u0000b"


@pytest.mark.usefixtures("nothing_recorded")
def test_nul_in_a_campaign_name_template_and_variable_key_is_refused(
    client: TestClient, tenant: Tenant
) -> None:
    body = campaign_body(
        tenant,
        name="March\u0000",
        message_template="Hi {{first_name}}\u0000",
        recipients=[{"phone": "+447111000001", "variables": {"first\u0000name": "Sarah"}}],
    )
    response = client.post(CAMPAIGNS, json=body, headers=tenant.headers)
    assert codes(response) == [
        ("name", "control_character"),
        ("message_template", "control_character"),
        ("recipients[0].variables", "control_character"),
    ]


@pytest.mark.usefixtures("nothing_recorded")
def test_nul_in_a_message_body_is_refused(client: TestClient, tenant: Tenant) -> None:
    response = client.post("/v1/sms", json=sms(tenant, message="a\u0000b"), headers=tenant.headers)
    assert codes(response) == [("message", "control_character")]


def test_skipped_recipients_are_kept_in_a_form_the_read_models_hold(
    client: TestClient, tenant: Tenant
) -> None:
    recipients = [
        {"phone": "+447111000001"},
        {"phone": "+44711100\u00000002"},
        {"phone": "+447111000003", "variables": {"first_name": "\u0000"}},
    ]
    body = campaign_body(tenant, recipients=recipients, on_invalid="skip")
    response = client.post(CAMPAIGNS, json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    assert [(s["index"], s["value"]) for s in response.json()["skipped"]] == [
        (1, "+44711100\\u00000002"),
        (2, "\\u0000"),
    ]
    assert client.get(CAMPAIGNS, headers=tenant.headers).status_code == 200


@pytest.mark.usefixtures("nothing_recorded")
def test_every_text_field_has_a_length_limit(client: TestClient, tenant: Tenant) -> None:
    agent = client.post(
        "/v1/agents",
        json={"name": "x" * 201, "system_prompt": "x" * 20_001},
        headers=tenant.headers,
    )
    assert codes(agent) == [("name", "too_long"), ("system_prompt", "too_long")]
    body = campaign_body(
        tenant,
        name="x" * 201,
        message_template="x" * 3201,
        recipients=[{"phone": "+447111000001", "variables": {"k" * 101: "v", "v": "x" * 3201}}],
    )
    campaign = client.post(CAMPAIGNS, json=body, headers=tenant.headers)
    assert codes(campaign) == [
        ("name", "too_long"),
        ("message_template", "too_long"),
        ("recipients[0].variables", "too_long"),
    ]


@pytest.mark.usefixtures("nothing_recorded")
def test_tabs_and_newlines_are_refused_in_names_but_not_in_messages(
    client: TestClient, tenant: Tenant
) -> None:
    response = client.post("/v1/agents", json={"name": "a\tb"}, headers=tenant.headers)
    assert codes(response) == [("name", "control_character")]
    body = campaign_body(tenant, message_template="Hi\n\t{{first_name}}\u0007")
    assert codes(client.post(CAMPAIGNS, json=body, headers=tenant.headers)) == [
        ("message_template", "control_character")
    ]


def test_multiline_messages_and_prompts_are_fine(client: TestClient, tenant: Tenant) -> None:
    agent = client.post(
        "/v1/agents",
        json={"name": "Desk", "system_prompt": "Be kind.\n\tAlways."},
        headers=tenant.headers,
    )
    assert agent.status_code == 201
    body = campaign_body(tenant, message_template="Hi {{first_name}},\r\nsee you.\n")
    assert client.post(CAMPAIGNS, json=body, headers=tenant.headers).status_code == 201


# 2. Times past what Herald and PostgreSQL can both hold.


@pytest.mark.parametrize(
    ("scheduled_at", "code"),
    [
        ("9999-12-31T23:59:59-23:59", "out_of_range"),
        ("9999-12-31T23:59:59Z", "too_far_ahead"),
        ("0001-01-01T00:00:00+23:59", "out_of_range"),
    ],
)
@pytest.mark.usefixtures("nothing_recorded")
def test_schedules_out_of_range_are_422(
    client: TestClient, tenant: Tenant, scheduled_at: str, code: str
) -> None:
    body = campaign_body(tenant, schedule_type="schedule", scheduled_at=scheduled_at)
    response = client.post(CAMPAIGNS, json=body, headers=tenant.headers)
    assert codes(response) == [("scheduled_at", code)]
    assert client.get(CAMPAIGNS, headers=tenant.headers).status_code == 200


def test_a_schedule_with_any_offset_is_recorded_in_utc(client: TestClient, tenant: Tenant) -> None:
    body = campaign_body(tenant, schedule_type="schedule", scheduled_at="2027-06-01T09:00:00-12:00")
    response = client.post(CAMPAIGNS, json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    assert response.json()["scheduled_at"].startswith("2027-06-01T21:00:00")


# 3 and 6. Authentication first; then bytes and shapes that do not parse are 400.


@pytest.mark.parametrize(
    "content",
    [b"{}", b'{"name": "\xff"}', b"[" * 10_000 + b"]" * 10_000, b"not json at all"],
)
@pytest.mark.usefixtures("nothing_recorded")
def test_without_credentials_the_answer_is_401_whatever_the_body(
    client: TestClient, content: bytes
) -> None:
    for path in ("/v1/sms", "/v1/agents", "/v1/numbers", CAMPAIGNS):
        response = client.post(path, content=content, headers=JSON)
        assert error(response, 401)["code"] == "unauthorized"


def test_an_unauthenticated_body_is_never_read(
    client: TestClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[object] = []
    read_json = interfaces.api.body.read_json

    async def spy(request: Any) -> Any:
        reads.append(request)
        return await read_json(request)

    monkeypatch.setattr(interfaces.api.body, "read_json", spy)
    recipients = [{"phone": f"+4471{i:08d}", "wrong": True} for i in range(100_000)]
    payload = json.dumps(campaign_body(tenant, recipients=recipients, name=5)).encode()
    response = client.post(CAMPAIGNS, content=payload, headers=JSON)
    assert error(response, 401)["code"] == "unauthorized"
    assert reads == []
    response = client.post(CAMPAIGNS, content=b"{}", headers={**JSON, **tenant.headers})
    assert response.status_code == 422 and len(reads) == 1


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b'{"name": "\xff\xfe"}', "malformed_json"),
        (b'{"name": "a\xed\xa0\x80"}', "malformed_json"),  # a surrogate, UTF-8 encoded
        (b'{"name": "a\\ud800"}', "malformed_json"),  # a lone surrogate, escaped
        (b"[" * 10_000 + b"]" * 10_000, "nested_too_deeply"),
        (b'{"name": ' + b"[" * 40 + b"]" * 40 + b"}", "nested_too_deeply"),
        (b'{"name": ' + b"1" * 5000 + b"}", "malformed_json"),
    ],
)
@pytest.mark.usefixtures("nothing_recorded")
def test_bodies_that_do_not_parse_are_400(
    client: TestClient, tenant: Tenant, content: bytes, code: str
) -> None:
    response = client.post("/v1/agents", content=content, headers={**JSON, **tenant.headers})
    assert error(response, 400)["code"] == code


# 7. Phone numbers in ASCII digits only.


@pytest.mark.usefixtures("nothing_recorded")
def test_one_number_spelt_with_other_digits_is_not_a_phone_number(
    client: TestClient, tenant: Tenant
) -> None:
    arabic = "+447111000001".translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    devanagari = "+44711100000\u0967"
    recipients = [{"phone": "+447111000001"}, {"phone": arabic}, {"phone": devanagari}]
    response = client.post(
        CAMPAIGNS, json=campaign_body(tenant, recipients=recipients), headers=tenant.headers
    )
    assert codes(response) == [
        ("recipients[1].phone", "not_e164"),
        ("recipients[2].phone", "not_e164"),
    ]
    response = client.post("/v1/sms", json=sms(tenant, to=arabic), headers=tenant.headers)
    assert codes(response) == [("to", "not_e164")]
    number = {"phone_number": arabic, "agent_id": tenant.agent_id}
    assert codes(client.post("/v1/numbers", json=number, headers=tenant.headers)) == [
        ("phone_number", "not_e164")
    ]


# 8. Strict contract: no duplicated keys, JSON only, no coercion.


@pytest.mark.usefixtures("nothing_recorded")
def test_a_duplicated_key_is_400(client: TestClient, tenant: Tenant) -> None:
    body = (
        json.dumps(campaign_body(tenant, schedule_type="draft"))[:-1] + ', "schedule_type": "now"}'
    )
    response = client.post(CAMPAIGNS, content=body.encode(), headers={**JSON, **tenant.headers})
    assert error(response, 400)["code"] == "duplicate_key"
    nested = b'{"name": "a", "system_prompt": "x", "meta": {"a": 1, "a": 2}}'
    response = client.post("/v1/agents", content=nested, headers={**JSON, **tenant.headers})
    assert error(response, 400)["code"] == "duplicate_key"
    escaped_colon = b'{"name": "a\\u003ab", "name": "c"}'
    response = client.post("/v1/agents", content=escaped_colon, headers={**JSON, **tenant.headers})
    assert error(response, 400)["code"] == "duplicate_key"


def test_colons_in_values_and_escapes_are_not_taken_for_duplicates(
    client: TestClient, tenant: Tenant
) -> None:
    content = b'{"name": "a:b\\u003ac", "system_prompt": "{\\"x\\": 1, \\"x\\": 2}"}'
    response = client.post("/v1/agents", content=content, headers={**JSON, **tenant.headers})
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "a:b:c"


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", None, "application/json; charset=latin-1"],
)
@pytest.mark.usefixtures("nothing_recorded")
def test_a_body_that_is_not_json_is_415(
    client: TestClient, tenant: Tenant, content_type: str | None
) -> None:
    headers = dict(tenant.headers) | ({"Content-Type": content_type} if content_type else {})
    response = client.post("/v1/agents", content=b'{"name": "a"}', headers=headers)
    assert error(response, 415)["code"] == "unsupported_media_type"


def test_json_with_a_charset_or_a_json_suffix_type_is_fine(
    client: TestClient, tenant: Tenant
) -> None:
    for content_type in ("application/json; charset=utf-8", "application/vnd.herald+json"):
        headers = {**tenant.headers, "Content-Type": content_type}
        response = client.post("/v1/agents", content=b'{"name": "a"}', headers=headers)
        assert response.status_code == 201, (content_type, response.text)


@pytest.mark.usefixtures("nothing_recorded")
def test_no_string_is_read_as_a_number_and_no_number_as_a_time(
    client: TestClient, tenant: Tenant
) -> None:
    number = {"phone_number": "+447446499999", "agent_id": tenant.agent_id, "mps": "5"}
    assert codes(client.post("/v1/numbers", json=number, headers=tenant.headers)) == [
        ("mps", "wrong_type")
    ]
    for mps in (5.0, True):
        response = client.post("/v1/numbers", json=number | {"mps": mps}, headers=tenant.headers)
        assert codes(response) == [("mps", "wrong_type")]
    body = campaign_body(tenant, schedule_type="schedule", scheduled_at=1_900_000_000)
    assert codes(client.post(CAMPAIGNS, json=body, headers=tenant.headers)) == [
        ("scheduled_at", "wrong_type")
    ]


# 10. Smaller findings.


@pytest.mark.usefixtures("nothing_recorded")
def test_a_200_kb_idempotency_key_is_431(client: TestClient, tenant: Tenant) -> None:
    headers = {**tenant.headers, "Idempotency-Key": "k" * 200_000}
    response = client.post(CAMPAIGNS, json=campaign_body(tenant), headers=headers)
    assert error(response, 431)["code"] == "headers_too_large"


def test_a_200_kb_header_is_answered_over_http_not_reset(herald: Herald, tenant: Tenant) -> None:
    with serve_in_thread(create_app(herald, follow_projection=False)) as server:
        response = httpx.post(
            f"{server.url}{CAMPAIGNS}",
            json=campaign_body(tenant),
            headers={**tenant.headers, "Idempotency-Key": "k" * 200_000},
            timeout=30,
        )
    assert error(response, 431)["code"] == "headers_too_large"


@pytest.mark.parametrize("key", ["k" * 256, "clé", "a\tb", "\u0085"])
@pytest.mark.usefixtures("nothing_recorded")
def test_an_idempotency_key_is_1_to_255_printable_ascii_characters(
    client: TestClient, tenant: Tenant, key: str
) -> None:
    headers = {**tenant.headers, "Idempotency-Key": key.encode()}
    response = client.post(CAMPAIGNS, json=campaign_body(tenant, name=""), headers=headers)
    assert codes(response) == [("Idempotency-Key", "invalid"), ("name", "required")]


def test_the_example_number_in_errors_is_one_herald_accepts(
    client: TestClient, tenant: Tenant
) -> None:
    response = client.post("/v1/sms", json=sms(tenant, to="07111000001"), headers=tenant.headers)
    message = error(response, 422)["details"][0]["message"]
    example = message.rsplit(" ", 1)[-1]
    assert example == "+447446466847"
    assert (
        client.post("/v1/sms", json=sms(tenant, to=example), headers=tenant.headers).status_code
        == 201
    )


def test_importing_a_number_held_anywhere_answers_alike(
    client: TestClient, tenant: Tenant, herald: Herald
) -> None:
    other = Tenant(herald)
    before = recorded(herald)
    answers = [
        client.post(
            "/v1/numbers",
            json={"phone_number": number, "agent_id": tenant.agent_id},
            headers=tenant.headers,
        )
        for number in (tenant.from_number, other.from_number)
    ]
    assert recorded(herald) == before
    own, others = (error(a, 409) for a in answers)
    assert own["code"] == others["code"] == "number_unavailable"
    assert own["message"] == others["message"] == "this number cannot be imported"
    assert "account" not in others["message"]
