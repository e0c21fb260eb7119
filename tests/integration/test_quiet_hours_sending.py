"""Quiet hours through the real dispatcher and simulator, at a moment the test chooses.

The world's clock reads 20:59:50 in London when each test starts and runs on at the real
pace, so the hold shows whatever the hour of the run.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from application.ports import SystemClock
from domain import ids
from tests.conftest import CLOCK_OFFSET
from tests.integration.conftest import SendingWorld, Tenant, wait_until

TEN_TO_NINE_PM = datetime(2026, 11, 26, 20, 59, 50, tzinfo=UTC)  # GMT: London is UTC
NINE_AM = "2026-11-27T09:00:00Z"


@pytest.fixture(scope="module")
def evening(database_url: str) -> Iterator[SendingWorld]:
    clock = SystemClock.starting_at(TEN_TO_NINE_PM)
    world = SendingWorld(database_url, clock=clock, allowed_countries=frozenset({"GB", "AU"}))
    yield world
    world.close()


@pytest.fixture
def clock(evening: SendingWorld) -> SystemClock:
    """Back at 20:59:50 London time for each test."""
    shifted = evening.herald.clock
    assert isinstance(shifted, SystemClock)
    shifted.offset = TEN_TO_NINE_PM - datetime.now(UTC)
    return shifted


def campaign(tenant: Tenant, phones: list[str]) -> dict[str, object]:
    return {
        "agent_id": tenant.agent_id,
        "from_number": tenant.from_number,
        "name": "Evening",
        "message_template": "Hi {{n}}",
        "recipients": [{"phone": p, "variables": {"n": i}} for i, p in enumerate(phones)],
        "schedule_type": "now",
    }


def phones(count: int, first: int) -> list[str]:
    return [f"+4471120{first + i:05d}" for i in range(count)]


def shown_at(evening: SendingWorld, message: dict[str, object], clock: SystemClock) -> datetime:
    """When the simulator received a message, on the world's clock."""
    real = datetime.fromisoformat(str(message["date_created"])) - timedelta(seconds=CLOCK_OFFSET)
    return real + clock.offset


def test_a_campaign_at_20_59_50_sends_what_fits_before_21_and_holds_the_rest(
    evening: SendingWorld, clock: SystemClock
) -> None:
    tenant = Tenant(evening.herald, quiet_hours=("21:00", "09:00"))  # mps 5
    http = evening.http(tenant)
    created = http.post("/v1/sms/campaigns", json=campaign(tenant, phones(60, 0))).json()

    def held() -> dict[str, object] | None:
        body = http.get(f"/v1/sms/campaigns/{created['campaign_id']}").json()
        return body if body["held_until"] else None

    body = wait_until(held, timeout=20)
    assert body["status"] == "running" and body["held_until"] == NINE_AM
    # Nothing goes out in quiet hours: wait until well past 21:00 and look.
    wait_until(lambda: clock.now() > TEN_TO_NINE_PM + timedelta(seconds=13), timeout=20)
    sent = evening.sent(tenant.from_number)
    assert 0 < len(sent) < 60  # some fit before 21:00 (about 50 at 5 a second), not all
    received = [shown_at(evening, m, clock) for m in sent]
    assert all(t.time() < datetime(1, 1, 1, 21).time() for t in received), max(received)
    eta = datetime.fromisoformat(str(body["estimated_completion_at"]))
    assert eta >= datetime(2026, 11, 27, 9, tzinfo=UTC)  # counts the wait
    later = http.get(f"/v1/sms/campaigns/{created['campaign_id']}").json()
    assert later["status_counts"]["pending"] == 60 - len(sent)
    listed = http.get("/v1/sms/campaigns").json()["campaigns"][0]
    assert listed["held_until"] == NINE_AM


def test_with_the_policy_off_nothing_is_held(evening: SendingWorld, clock: SystemClock) -> None:
    tenant = Tenant(evening.herald, quiet_hours=None)
    http = evening.http(tenant)
    created = http.post("/v1/sms/campaigns", json=campaign(tenant, phones(80, 100))).json()
    wait_until(lambda: len(evening.sent(tenant.from_number)) == 80, timeout=40)
    body = http.get(f"/v1/sms/campaigns/{created['campaign_id']}").json()
    assert body["held_until"] is None
    assert max(shown_at(evening, m, clock) for m in evening.sent(tenant.from_number)) > (
        datetime(2026, 11, 26, 21, tzinfo=UTC)
    )


def test_turning_quiet_hours_off_releases_a_held_campaign_on_the_next_plan(
    evening: SendingWorld, clock: SystemClock
) -> None:
    tenant = Tenant(evening.herald, quiet_hours=("21:00", "09:00"))
    http = evening.http(tenant)
    created = http.post("/v1/sms/campaigns", json=campaign(tenant, phones(80, 200))).json()
    url = f"/v1/sms/campaigns/{created['campaign_id']}"
    wait_until(lambda: http.get(url).json()["held_until"], timeout=20)
    held_count = len(evening.sent(tenant.from_number))
    assert held_count < 80
    assert http.patch("/v1/account", json={"quiet_hours": None}).status_code == 200
    wait_until(lambda: len(evening.sent(tenant.from_number)) == 80, timeout=30)
    body = wait_until(lambda: (b := http.get(url).json())["held_until"] is None and b, timeout=10)
    assert body["status"] in ("running", "done")
    campaign_id = ids.parse_public_id(ids.CAMPAIGN, str(created["campaign_id"]))
    store = evening.herald.store.repository.event_store  # type: ignore[attr-defined]
    events = [type(e).__qualname__ for e in store.get(campaign_id)]
    assert events.count("Campaign.HeldForQuietHours") == 1
    assert events.count("Campaign.HoldEnded") == 1


def test_a_phone_in_several_zones_waits_for_the_last_to_leave_quiet_hours(
    evening: SendingWorld, clock: SystemClock
) -> None:
    # At noon UTC it is 23:00 in Sydney but 20:00 in Perth: an Australian mobile (every
    # Australian zone) waits until 09:00 in the Cocos Islands, 02:30 UTC; a GB one goes.
    clock.offset = datetime(2026, 11, 26, 12, tzinfo=UTC) - datetime.now(UTC)
    tenant = Tenant(evening.herald, quiet_hours=("21:00", "09:00"))
    http = evening.http(tenant)
    both = ["+447112099999", "+61412345678"]
    created = http.post("/v1/sms/campaigns", json=campaign(tenant, both)).json()
    url = f"/v1/sms/campaigns/{created['campaign_id']}"
    body = wait_until(lambda: (b := http.get(url).json())["held_until"] and b, timeout=20)
    assert body["held_until"] == "2026-11-27T02:30:00Z"
    wait_until(lambda: evening.sent(tenant.from_number), timeout=20)  # planned first, then sent
    assert [m["to"] for m in evening.sent(tenant.from_number)] == ["+447112099999"]
    statuses = {r["phone"]: r["status"] for r in body["recipients"]}
    assert statuses["+61412345678"] == "pending"


def test_a_single_sms_in_quiet_hours_says_until_when_and_waits(
    evening: SendingWorld, clock: SystemClock
) -> None:
    clock.offset = datetime(2026, 11, 26, 22, tzinfo=UTC) - datetime.now(UTC)
    tenant = Tenant(evening.herald, quiet_hours=("21:00", "09:00"))
    http: httpx.Client = evening.http(tenant)
    sent = http.post(
        "/v1/sms",
        json={
            "agent_id": tenant.agent_id,
            "to": "+447112000777",
            "from_number": tenant.from_number,
            "message": "See you tomorrow",
        },
    ).json()
    assert sent["deferred_until"] == NINE_AM
    wait_until(lambda: clock.now() > datetime(2026, 11, 26, 22, 0, 3, tzinfo=UTC), timeout=10)
    assert evening.sent(tenant.from_number) == []
