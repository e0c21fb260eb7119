"""Concurrent requests answer 2xx or 409, never 5xx, and make one campaign or one transition.

Each test fires its requests from many threads at once (released together by a barrier)
at a real uvicorn server, so they race in the API and the event store as clients' would.
"""

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from interfaces.api.app import create_app
from interfaces.bootstrap import Herald
from interfaces.server import ServerHandle, serve_in_thread
from tests.integration.conftest import Tenant, campaign_body

CAMPAIGNS = "/v1/sms/campaigns"
PARALLEL = 20


@pytest.fixture(scope="module")
def server(herald: Herald) -> Iterator[ServerHandle]:
    with serve_in_thread(create_app(herald)) as handle:
        yield handle


def at_once(count: int, request: Callable[[httpx.Client], httpx.Response]) -> list[httpx.Response]:
    """`count` requests, each from its own thread and connection, released together."""
    start = threading.Barrier(count)

    def one(_: int) -> httpx.Response:
        with httpx.Client(timeout=60) as http:
            start.wait()
            return request(http)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def statuses(responses: list[httpx.Response]) -> Counter[int]:
    return Counter(r.status_code for r in responses)


def events_of(herald: Herald, campaign_id: str) -> list[str]:
    """The campaign's recorded events, by name (e.g. 'Campaign.Launched')."""
    with herald.pool.connection() as conn:
        rows = conn.execute(
            "SELECT topic FROM herald_events WHERE originator_id = %s ORDER BY originator_version",
            (campaign_id[5:],),
        ).fetchall()
    return [topic.rsplit(":", 1)[1] for (topic,) in rows]


def create(server: ServerHandle, tenant: Tenant, **changes: object) -> str:
    response = httpx.post(
        server.url + CAMPAIGNS, json=campaign_body(tenant, **changes), headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    campaign_id: str = response.json()["campaign_id"]
    return campaign_id


def test_parallel_creates_with_one_idempotency_key_all_answer_the_one_campaign(
    server: ServerHandle, tenant: Tenant
) -> None:
    headers = {**tenant.headers, "Idempotency-Key": "race-1"}
    body = campaign_body(tenant)
    responses = at_once(
        PARALLEL, lambda http: http.post(server.url + CAMPAIGNS, json=body, headers=headers)
    )
    assert statuses(responses) == {201: PARALLEL}, [r.text for r in responses]
    assert len({r.json()["campaign_id"] for r in responses}) == 1
    assert all(r.json()["total_count"] == 2 for r in responses)
    listed = httpx.get(server.url + CAMPAIGNS, headers=tenant.headers).json()["campaigns"]
    assert len(listed) == 1


def test_parallel_creates_with_one_key_and_different_bodies_are_one_campaign_and_409s(
    server: ServerHandle, tenant: Tenant
) -> None:
    headers = {**tenant.headers, "Idempotency-Key": "race-2"}
    bodies = [campaign_body(tenant, name=f"n{i % 2}") for i in range(PARALLEL)]
    counter = iter(range(PARALLEL))
    lock = threading.Lock()

    def post(http: httpx.Client) -> httpx.Response:
        with lock:
            body = bodies[next(counter)]
        return http.post(server.url + CAMPAIGNS, json=body, headers=headers)

    responses = at_once(PARALLEL, post)
    assert set(statuses(responses)) <= {201, 409}, [r.text for r in responses]
    created = [r.json() for r in responses if r.status_code == 201]
    assert len({c["campaign_id"] for c in created}) == 1
    assert len({c["name"] for c in created}) == 1
    assert all(r.json()["error"]["code"] == "conflict" for r in responses if r.status_code == 409)


def test_parallel_launches_of_one_draft_launch_it_once(
    server: ServerHandle, tenant: Tenant, herald: Herald
) -> None:
    campaign_id = create(server, tenant, schedule_type="draft")
    url = f"{server.url}{CAMPAIGNS}/{campaign_id}/launch"
    responses = at_once(PARALLEL, lambda http: http.post(url, headers=tenant.headers))
    assert statuses(responses) == {200: 1, 409: PARALLEL - 1}, [r.text for r in responses]
    assert events_of(herald, campaign_id).count("Campaign.Launched") == 1


@pytest.mark.parametrize("action", ["pause", "resume", "cancel"])
def test_parallel_transitions_of_one_campaign_happen_once(
    server: ServerHandle, tenant: Tenant, herald: Herald, action: str
) -> None:
    campaign_id = create(server, tenant, schedule_type="draft")
    url = f"{server.url}{CAMPAIGNS}/{campaign_id}"
    httpx.post(f"{url}/launch", headers=tenant.headers).raise_for_status()
    if action == "resume":
        httpx.post(f"{url}/pause", headers=tenant.headers).raise_for_status()

    def act(http: httpx.Client) -> httpx.Response:
        if action == "cancel":
            return http.delete(url, headers=tenant.headers)
        return http.post(f"{url}/{action}", headers=tenant.headers)

    responses = at_once(PARALLEL, act)
    assert statuses(responses) == {200: 1, 409: PARALLEL - 1}, [r.text for r in responses]
    event = {"pause": "Paused", "resume": "Resumed", "cancel": "Cancelled"}[action]
    assert events_of(herald, campaign_id).count(f"Campaign.{event}") == 1


def test_pause_resume_and_cancel_together_answer_2xx_or_409(
    server: ServerHandle, tenant: Tenant, herald: Herald
) -> None:
    campaign_id = create(server, tenant, schedule_type="draft")
    url = f"{server.url}{CAMPAIGNS}/{campaign_id}"
    httpx.post(f"{url}/launch", headers=tenant.headers).raise_for_status()
    actions = ["pause", "resume", "cancel", "launch"] * (PARALLEL // 4)
    counter = iter(actions)
    lock = threading.Lock()

    def act(http: httpx.Client) -> httpx.Response:
        with lock:
            action = next(counter)
        if action == "cancel":
            return http.delete(url, headers=tenant.headers)
        return http.post(f"{url}/{action}", headers=tenant.headers)

    responses = at_once(PARALLEL, act)
    assert set(statuses(responses)) <= {200, 409}, [r.text for r in responses]
    assert events_of(herald, campaign_id).count("Campaign.Cancelled") == 1
    final = httpx.get(url, headers=tenant.headers).json()
    assert final["status"] == "cancelled"
    assert final["paused_reason"] is None
