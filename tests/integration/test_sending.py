"""Campaigns and single messages going out through the real twilio SDK to the simulator,
with status callbacks coming back signed, on real PostgreSQL."""

import time
from datetime import datetime, timedelta

import httpx

from tests.conftest import now
from tests.integration.conftest import SendingWorld, Tenant, campaign_body, wait_until


def recipients(count: int, start: int = 0) -> list[dict[str, object]]:
    return [
        {"phone": f"+4471110{i:05d}", "variables": {"first_name": f"N{i}"}}
        for i in range(start, start + count)
    ]


def finished(http: httpx.Client, campaign_id: str, status: str = "done"):
    def check():
        body = http.get(f"/v1/sms/campaigns/{campaign_id}").json()
        return body if body["status"] == status and body["pending_count"] == 0 else None

    return check


def test_seed_campaign_reaches_done_with_counts_matching_recipients(
    world: SendingWorld, sender: Tenant
) -> None:
    http = world.http(sender)
    created = http.post("/v1/sms/campaigns", json=campaign_body(sender)).json()
    done = wait_until(finished(http, created["campaign_id"]), timeout=20)
    assert (
        done["total_count"],
        done["delivered_count"],
        done["failed_count"],
        done["pending_count"],
    ) == (2, 2, 0, 0)
    statuses = [r["status"] for r in done["recipients"]]
    assert statuses == ["delivered", "delivered"]
    assert all(r["twilio_sid"].startswith("SM") for r in done["recipients"])
    bodies = sorted(m["body"] for m in world.sent(sender.from_number))
    assert bodies[0].startswith("Hi James, Acme Dental") and bodies[1].startswith(
        "Hi Sarah, Acme Dental"
    )
    assert http.delete(f"/v1/sms/campaigns/{created['campaign_id']}").status_code == 409


def test_single_sms_answers_with_twilio_sid_and_tracks_delivery(
    world: SendingWorld, sender: Tenant
) -> None:
    http = world.http(sender)
    sent = http.post(
        "/v1/sms",
        json={
            "agent_id": sender.agent_id,
            "to": "+447386172392",
            "from_number": sender.from_number,
            "message": "Reminder: 2pm",
        },
    )
    assert sent.status_code == 201
    assert sent.json()["status"] in ("queued", "sent", "delivered")
    assert sent.json()["twilio_sid"].startswith("SM")
    by_sid = wait_until(
        lambda: (
            (b := http.get(f"/v1/sms/{sent.json()['twilio_sid']}").json())["status"] == "delivered"
            and b
        )
    )
    assert by_sid["message_id"] == sent.json()["message_id"]
    assert by_sid["queued_at"] and by_sid["sent_at"] and by_sid["delivered_at"]


def test_undelivered_and_failed_outcomes_are_counted_as_failed(
    world: SendingWorld, sender: Tenant
) -> None:
    world.simulate(outcome_weights={"undelivered": 1.0})
    http = world.http(sender)
    created = http.post(
        "/v1/sms/campaigns", json=campaign_body(sender, recipients=recipients(3))
    ).json()
    done = wait_until(finished(http, created["campaign_id"]), timeout=20)
    assert (done["failed_count"], done["delivered_count"]) == (3, 0)
    assert {r["error_code"] for r in done["recipients"]} == {30003}


def test_rejected_submissions_fail_the_recipient_and_21610_records_an_opt_out(
    world: SendingWorld, sender: Tenant
) -> None:
    world.simulate(reject_to={"+447111000000": 21610, "+447111000001": 21211})
    http = world.http(sender)
    created = http.post(
        "/v1/sms/campaigns", json=campaign_body(sender, recipients=recipients(3))
    ).json()
    done = wait_until(finished(http, created["campaign_id"]), timeout=20)
    by_phone = {r["phone"]: r for r in done["recipients"]}
    assert (by_phone["+447111000000"]["status"], by_phone["+447111000000"]["error_code"]) == (
        "failed",
        21610,
    )
    assert by_phone["+447111000001"]["error_code"] == 21211
    assert by_phone["+447111000002"]["status"] == "delivered"
    again = http.post(
        "/v1/sms/campaigns", json=campaign_body(sender, recipients=recipients(1))
    ).json()
    assert again["status_counts"] == {"suppressed": 1}


def test_a_campaign_whose_every_submission_fails_is_failed(
    world: SendingWorld, sender: Tenant
) -> None:
    world.simulate(reject_to={"+447111000000": 21211, "+447111000001": 21211})
    http = world.http(sender)
    created = http.post(
        "/v1/sms/campaigns", json=campaign_body(sender, recipients=recipients(2))
    ).json()
    wait_until(finished(http, created["campaign_id"], status="failed"), timeout=20)


def test_throttling_and_twilio_faults_are_retried_and_nothing_is_sent_twice(
    world: SendingWorld, sender: Tenant
) -> None:
    world.simulate(fail_next=[429, 429, 503, 500, 429], create_before_fail=True)
    http = world.http(sender)
    created = http.post(
        "/v1/sms/campaigns", json=campaign_body(sender, recipients=recipients(8))
    ).json()
    done = wait_until(finished(http, created["campaign_id"]), timeout=40)
    assert done["delivered_count"] == 8
    to = [m["to"] for m in world.sent(sender.from_number)]
    assert sorted(to) == sorted(set(to)) and len(to) == 8


def test_a_storm_of_429_and_5xx_still_sends_each_recipient_exactly_once(
    world: SendingWorld, sender: Tenant
) -> None:
    world.simulate(error_rate=0.4, error_status=429)
    http = world.http(sender)
    created = http.post(
        "/v1/sms/campaigns", json=campaign_body(sender, recipients=recipients(20))
    ).json()
    time.sleep(2)
    world.simulate(error_rate=0.3, error_status=503, create_before_fail=True)
    time.sleep(2)
    world.simulate(error_rate=0.0)
    done = wait_until(finished(http, created["campaign_id"]), timeout=60)
    assert done["delivered_count"] == 20
    to = [m["to"] for m in world.sent(sender.from_number)]
    assert len(to) == len(set(to)) == 20


def test_cancel_stops_every_later_submission(world: SendingWorld, sender: Tenant) -> None:
    http = world.http(sender)
    created = http.post(
        "/v1/sms/campaigns", json=campaign_body(sender, recipients=recipients(200))
    ).json()
    wait_until(lambda: len(world.sent(sender.from_number)) >= 3)
    cancelled = http.delete(f"/v1/sms/campaigns/{created['campaign_id']}")
    cancelled_at = now()
    assert cancelled.status_code == 200
    submitted = len(world.sent(sender.from_number))
    time.sleep(1.5)
    later = [
        m
        for m in world.sent(sender.from_number)
        if datetime.fromisoformat(m["date_created"]) > cancelled_at
    ]
    assert later == []
    assert len(world.sent(sender.from_number)) == submitted
    body = cancelled.json()
    assert (
        body["cancelled_count"]
        + body["pending_count"]
        + body["delivered_count"]
        + body["failed_count"]
        == 200
    )
    final = wait_until(
        lambda: (
            (b := http.get(f"/v1/sms/campaigns/{created['campaign_id']}").json())["pending_count"]
            == 0
            and b
        )
    )
    assert final["cancelled_count"] == 200 - submitted


def test_pause_and_resume_skip_no_one_and_double_no_one(
    world: SendingWorld, sender: Tenant
) -> None:
    http = world.http(sender)
    created = http.post(
        "/v1/sms/campaigns", json=campaign_body(sender, recipients=recipients(25))
    ).json()
    url = f"/v1/sms/campaigns/{created['campaign_id']}"
    wait_until(lambda: len(world.sent(sender.from_number)) >= 3)
    paused = http.post(f"{url}/pause")
    assert paused.json()["status"] == "paused"
    at_pause = len(world.sent(sender.from_number))
    time.sleep(1.5)
    assert len(world.sent(sender.from_number)) == at_pause
    assert http.post(f"{url}/pause").status_code == 409
    assert http.post(f"{url}/resume").json()["status"] == "running"
    done = wait_until(finished(http, created["campaign_id"]), timeout=30)
    assert done["delivered_count"] == 25
    to = [m["to"] for m in world.sent(sender.from_number)]
    assert len(to) == len(set(to)) == 25


def test_retry_resends_only_retryable_failures(world: SendingWorld, sender: Tenant) -> None:
    world.simulate(
        outcome_weights={"undelivered": 1.0},
        undelivered_error_code=30003,
        reject_to={"+447111000004": 21211},
    )
    http = world.http(sender)
    created = http.post(
        "/v1/sms/campaigns", json=campaign_body(sender, recipients=recipients(5))
    ).json()
    url = f"/v1/sms/campaigns/{created['campaign_id']}"
    wait_until(finished(http, created["campaign_id"]), timeout=20)
    world.simulate(outcome_weights={"delivered": 1.0})
    assert http.post(f"{url}/retry").json()["status"] == "running"
    done = wait_until(finished(http, created["campaign_id"]), timeout=20)
    assert (done["delivered_count"], done["failed_count"]) == (4, 1)
    sent_to = [m["to"] for m in world.sent(sender.from_number)]
    assert len(sent_to) == 8  # 4 undelivered sent twice; the rejected one never re-sent
    assert http.post(f"{url}/retry").status_code == 409


def test_a_campaign_that_mostly_fails_pauses_itself_with_a_reason(
    world: SendingWorld, sender: Tenant
) -> None:
    world.simulate(reject_to={f"+4471110{i:05d}": 21612 for i in range(40)})
    http = world.http(sender)
    created = http.post(
        "/v1/sms/campaigns", json=campaign_body(sender, recipients=recipients(60))
    ).json()
    paused = wait_until(
        lambda: (
            (b := http.get(f"/v1/sms/campaigns/{created['campaign_id']}").json())["status"]
            == "paused"
            and b
        ),
        timeout=30,
    )
    assert "21612" in paused["paused_reason"]


def test_scheduled_campaign_starts_at_its_time(world: SendingWorld, sender: Tenant) -> None:
    http = world.http(sender)
    at = now() + timedelta(seconds=2)
    created = http.post(
        "/v1/sms/campaigns",
        json=campaign_body(sender, schedule_type="schedule", scheduled_at=at.isoformat()),
    ).json()
    assert created["status"] == "scheduled"
    wait_until(finished(http, created["campaign_id"]), timeout=20)
    first = min(datetime.fromisoformat(m["date_created"]) for m in world.sent(sender.from_number))
    assert first >= at


def test_sender_pool_gives_each_phone_one_number(world: SendingWorld, sender: Tenant) -> None:
    http = world.http(sender)
    second = "+447446499998"
    http.post("/v1/numbers", json={"phone_number": second, "agent_id": sender.agent_id, "mps": 5})
    body = campaign_body(
        sender, recipients=recipients(20), from_numbers=[sender.from_number, second]
    )
    del body["from_number"]
    created = http.post("/v1/sms/campaigns", json=body).json()
    wait_until(finished(http, created["campaign_id"]), timeout=20)
    first, other = world.sent(sender.from_number), world.sent(second)
    assert first and other and len(first) + len(other) == 20
    assert not {m["to"] for m in first} & {m["to"] for m in other}
