"""The API's contract beyond its bodies: the headers HTTP requires with an error status, and
an OpenAPI schema that documents every status, the error shape and the rules enforced."""

from litestar.testing import TestClient

from tests.integration.conftest import Tenant


def test_a_405_says_which_methods_are_allowed(client: TestClient, tenant: Tenant) -> None:
    response = client.put("/v1/sms/campaigns", headers=tenant.headers)
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert "GET" in client.patch("/healthz").headers["allow"]


def test_a_401_names_the_bearer_scheme(client: TestClient, tenant: Tenant) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"}):
        response = client.get("/v1/sms/campaigns", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"]["code"] == "unauthorized"


def openapi(client: TestClient) -> dict:
    schema: dict = client.get("/schema/openapi.json").json()
    return schema


def operations(schema: dict) -> list[tuple[str, str, dict]]:
    return [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]


def test_every_error_an_operation_documents_has_heralds_shape(client: TestClient) -> None:
    schema = openapi(client)
    error = schema["components"]["schemas"]["ErrorBody"]
    assert error["required"] == ["error"]
    for method, path, operation in operations(schema):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                body = response["content"]["application/json"]["schema"]
                assert body == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)


def test_every_operation_documents_the_statuses_it_can_answer(client: TestClient) -> None:
    with_body = {"400", "401", "413", "415", "422", "431"}
    expected = {
        ("POST", "/v1/sms/campaigns"): with_body | {"201", "409"},
        ("POST", "/v1/sms/campaigns/preview"): with_body | {"200"},
        ("GET", "/v1/sms/campaigns"): {"200", "400", "401", "422", "431"},
        ("GET", "/v1/sms/campaigns/{campaign_id}"): {"200", "400", "401", "404", "422", "431"},
        ("DELETE", "/v1/sms/campaigns/{campaign_id}"): {"200", "400", "401", "404", "409", "431"},
        ("POST", "/v1/sms/campaigns/{campaign_id}/launch"): {
            "200",
            "400",
            "401",
            "404",
            "409",
            "431",
        },
        ("POST", "/v1/sms"): with_body | {"201"},
        ("GET", "/v1/sms/{message_id}"): {"200", "400", "401", "404", "431"},
        ("POST", "/v1/agents"): with_body | {"201"},
        ("POST", "/v1/numbers"): with_body | {"201", "409"},
        ("PATCH", "/v1/account"): with_body | {"200", "404"},
        ("GET", "/healthz"): {"200", "431"},
    }
    documented = {(m, p): set(o["responses"]) for m, p, o in operations(openapi(client))}
    for operation, statuses in expected.items():
        assert documented[operation] == statuses, operation


def test_every_operation_but_health_requires_the_api_key(client: TestClient) -> None:
    schema = openapi(client)
    assert schema["security"] == [{"apiKey": []}]
    assert schema["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    assert schema["paths"]["/healthz"]["get"]["security"] == [{}]


def test_the_schema_states_the_rules_the_api_enforces(client: TestClient) -> None:
    schema = openapi(client)
    models = schema["components"]["schemas"]
    e164 = "^\\+[1-9][0-9]{1,14}$"
    for model, field in (
        ("SendSms", "to"),
        ("SendSms", "from_number"),
        ("AddNumber", "phone_number"),
        ("CreateCampaign", "from_number"),
    ):
        assert models[model]["properties"][field]["pattern"] == e164, (model, field)
    campaign = models["CreateCampaign"]["properties"]
    assert campaign["from_numbers"]["items"]["pattern"] == e164
    assert (campaign["from_numbers"]["minItems"], campaign["from_numbers"]["maxItems"]) == (1, 1000)
    assert campaign["recipients"]["minItems"] == 1
    assert (campaign["name"]["minLength"], campaign["name"]["maxLength"]) == (1, 200)
    assert models["SendSms"]["properties"]["message"]["maxLength"] == 1600
    mps = models["AddNumber"]["properties"]["mps"]
    assert (mps["minimum"], mps["maximum"]) == (1, 1000)
    start = models["QuietHoursWindow"]["properties"]["start"]
    assert start["pattern"] == "^([01][0-9]|2[0-3]):[0-5][0-9]$"

    def parameter(path: str, method: str, name: str) -> dict:
        found = [p for p in schema["paths"][path][method]["parameters"] if p["name"] == name]
        return found[0]

    limit = parameter("/v1/sms/campaigns", "get", "limit")["schema"]
    assert (limit["minimum"], limit["maximum"]) == (1, 1000)
    preview = parameter("/v1/sms/campaigns/preview", "post", "limit")["schema"]
    assert (preview["minimum"], preview["maximum"]) == (1, 100)
    key = parameter("/v1/sms/campaigns", "post", "Idempotency-Key")
    assert (key["in"], key["schema"]["pattern"]) == ("header", "^[ -~]{1,255}$")


def test_options_lists_every_method_of_the_path(client: TestClient, tenant: Tenant) -> None:
    for path, methods in (
        ("/v1/agents", {"GET", "POST", "OPTIONS"}),
        ("/v1/account", {"GET", "PATCH", "OPTIONS"}),
        ("/v1/sms/campaigns/smsc_0", {"GET", "DELETE", "OPTIONS"}),
    ):
        response = client.options(path, headers=tenant.headers)
        assert set(response.headers["allow"].replace(" ", "").split(",")) == methods, path
