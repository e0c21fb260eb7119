"""The API's contract beyond its bodies: the headers HTTP requires with an error status."""

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
