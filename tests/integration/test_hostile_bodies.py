"""Hostile shapes through every endpoint that creates something: a valid body with a field
replaced by any JSON value (huge integers, floats, nulls, nested lists and objects), a
field dropped, unknown fields added, a recipient or a variable mangled, or no object at
all. The answer is never a 5xx; a 4xx is in Herald's error shape and records nothing.

(Hostile text in each field is tests/integration/test_hostile_input_fuzz.py's.)
"""

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from interfaces.api.app import create_app
from interfaces.bootstrap import Herald
from tests.integration.conftest import Tenant, campaign_body, sharing
from tests.integration.test_hostile_requests import recorded

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**80), 2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)

BODIES: dict[str, Callable[[Tenant], dict[str, Any]]] = {
    "/v1/sms/campaigns": lambda t: campaign_body(t, on_invalid="reject"),
    "/v1/sms/campaigns/preview": lambda t: campaign_body(t),
    "/v1/sms": lambda t: {
        "agent_id": t.agent_id,
        "to": "+447111000001",
        "from_number": t.from_number,
        "message": "Hi",
    },
    "/v1/agents": lambda t: {"name": "Desk", "system_prompt": "Be kind."},
    "/v1/numbers": lambda t: {"phone_number": "+447446400001", "agent_id": t.agent_id, "mps": 2},
}


@st.composite
def mangled(draw: st.DrawFn, body: dict[str, Any]) -> Any:
    how = draw(st.sampled_from(["replace", "drop", "add", "recipient", "variables", "whole"]))
    if how == "whole":
        return draw(JSON)
    body = json.loads(json.dumps(body))
    field = draw(st.sampled_from(sorted(body)))
    if how == "replace":
        body[field] = draw(JSON)
    elif how == "drop":
        del body[field]
    elif how == "add":
        body[draw(st.text(min_size=1, max_size=12))] = draw(JSON)
    elif "recipients" in body:
        recipient = body["recipients"][0]
        if how == "recipient":
            recipient[draw(st.sampled_from(["phone", "variables", "extra"]))] = draw(JSON)
        else:
            recipient["variables"] = draw(st.dictionaries(st.text(max_size=8), JSON, max_size=3))
    return body


@pytest.fixture(scope="module")
def http(herald: Herald) -> Iterator[TestClient]:  # type: ignore[type-arg]
    # No dispatcher runs here: a single SMS that is accepted need not wait for its SID.
    quick = sharing(herald, herald.settings.with_(sms_wait_seconds=0))
    with TestClient(create_app(quick, follow_projection=False)) as client:
        yield client


@pytest.mark.parametrize("path", list(BODIES))
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_a_hostile_body_is_never_a_5xx_and_a_refused_one_records_nothing(
    http: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
    herald: Herald,
    path: str,
    data: st.DataObject,
) -> None:
    body = data.draw(mangled(BODIES[path](tenant)))
    before = recorded(herald)
    response = http.post(
        path,
        content=json.dumps(body),
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert response.status_code < 500, (body, response.text)
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"code", "message", "details"}
        assert recorded(herald) == before, (body, response.text)
    if path.endswith("/preview"):
        assert recorded(herald) == before
