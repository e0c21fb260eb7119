"""Audit: a phone's and a campaign's history through the API and `herald audit`, the consent
held at a time, anything sent after STOP, and the bad input each refuses."""

import os
import subprocess
from datetime import timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest

from domain import ids
from domain.message import Message
from harness.processes import HERALD
from tests.integration.conftest import SendingWorld, Tenant, campaign_body, wait_until

PHONE = "+447111000001"
OTHER_PHONE = "+447111000002"


def done(http: httpx.Client, campaign_id: str) -> Any:
    def check() -> Any:
        body = http.get(f"/v1/sms/campaigns/{campaign_id}").json()
        return body if body["status"] == "done" and body["pending_count"] == 0 else None

    return check


def delivered(http: httpx.Client, message_id: str) -> Any:
    return lambda: http.get(f"/v1/sms/{message_id}").json()["status"] == "delivered"


def names(history: dict[str, Any]) -> list[str]:
    return [f"{e['aggregate']}.{e['event']}" for e in history["events"]]


@pytest.fixture(scope="module")
def story(world: SendingWorld) -> dict[str, Any]:
    """One tenant's phone: opted in, sent a single SMS (delivered), a campaign, then STOP;
    a second campaign to the same phones suppresses it."""
    httpx.post(f"{world.sim.url}/_sim/reset").raise_for_status()
    world.simulate(sent_delay=0.01, final_delay=0.02)
    herald = world.herald
    tenant = Tenant(herald)
    http = world.http(tenant)
    herald.consents.opt_in(tenant.account_id, PHONE, "web_form", "form 7, ip 192.0.2.1")
    opted_in_at = herald.clock.now()
    single = http.post(
        "/v1/sms",
        json={
            "agent_id": tenant.agent_id,
            "to": PHONE,
            "from_number": tenant.from_number,
            "message": "Your appointment is at 2pm.",
        },
    ).json()
    wait_until(delivered(http, single["message_id"]))
    first = http.post("/v1/sms/campaigns", json=campaign_body(tenant)).json()
    wait_until(done(http, first["campaign_id"]))
    before_stop = herald.clock.now()
    herald.consents.opt_out(tenant.account_id, PHONE, "STOP", "sms", "SM" + "a" * 32)
    stopped_at = herald.clock.now()
    second = http.post("/v1/sms/campaigns", json=campaign_body(tenant, name="second")).json()
    wait_until(done(http, second["campaign_id"]))
    return {
        "tenant": tenant,
        "http": http,
        "single": single["message_id"],
        "first": first["campaign_id"],
        "second": second["campaign_id"],
        "opted_in_at": opted_in_at,
        "before_stop": before_stop,
        "stopped_at": stopped_at,
    }


def test_a_phone_history_shows_consent_and_every_message_in_order(
    story: dict[str, Any],
) -> None:
    history = story["http"].get(f"/v1/audit/phones/{PHONE}").json()
    events = names(history)
    assert events[0] == "Consent.Started" and events[1] == "Consent.OptedIn"
    assert events.index("Consent.OptedOut") > events.index("Message.StatusReported")
    positions = [e["position"] for e in history["events"]]
    assert positions == sorted(positions)
    messages = {e["aggregate_id"] for e in history["events"] if e["aggregate"] == "Message"}
    assert story["single"] in messages and len(messages) == 2  # the single send, campaign 1
    opt_in = next(e for e in history["events"] if e["event"] == "OptedIn")
    assert opt_in["facts"]["evidence"] == "form 7, ip 192.0.2.1"
    assert opt_in["facts"]["source"] == "web_form"
    opt_out = next(e for e in history["events"] if e["event"] == "OptedOut")
    assert (opt_out["facts"]["keyword"], opt_out["facts"]["evidence"]) == ("STOP", "SM" + "a" * 32)
    statuses = [
        e["facts"].get("status") for e in history["events"] if e["event"] == "StatusReported"
    ]
    assert "delivered" in statuses
    assert history["consent"]["status"] == "opted_out"
    assert history["consent"]["facts"]["keyword"] == "STOP"
    assert history["sent_after_stop"] == []


def test_consent_held_at_a_time_before_the_stop_was_the_opt_in(story: dict[str, Any]) -> None:
    between = story["before_stop"].isoformat()
    held = story["http"].get(f"/v1/audit/phones/{PHONE}", params={"at": between}).json()
    assert held["consent"]["status"] == "opted_in"
    assert held["consent"]["facts"]["evidence"] == "form 7, ip 192.0.2.1"
    day_before = (story["opted_in_at"] - timedelta(days=1)).date().isoformat()
    earlier = story["http"].get(f"/v1/audit/phones/{PHONE}", params={"at": day_before}).json()
    assert earlier["consent"]["status"] == "no_record"


def test_a_submission_recorded_after_the_stop_is_listed(
    world: SendingWorld, story: dict[str, Any]
) -> None:
    """As if something had sent after STOP: a message to the phone whose first attempt is
    recorded after the opt-out. The audit names it with the opt-out it came after."""
    tenant = story["tenant"]
    herald = world.herald
    late = Message(
        id=uuid4(),
        account_id=tenant.account_id,
        agent_id=ids.parse_public_id(ids.AGENT, tenant.agent_id),
        to=PHONE,
        from_number=tenant.from_number,
        body="sent after STOP",
        segments=1,
        encoding="GSM-7",
        created_at=herald.clock.now(),
        attempted_by="a-broken-dispatcher",
    )
    herald.projector.catch_up(until=herald.store.record(late))
    history = story["http"].get(f"/v1/audit/phones/{PHONE}").json()
    [found] = history["sent_after_stop"]
    assert found["message_id"] == ids.public_id(ids.MESSAGE, late.id)
    assert found["phone"] == PHONE and found["opt_out"]["keyword"] == "STOP"
    other = story["http"].get(f"/v1/audit/phones/{OTHER_PHONE}").json()
    assert other["sent_after_stop"] == [] and other["consent"]["status"] == "no_record"


def test_another_accounts_phone_history_is_empty(
    world: SendingWorld, story: dict[str, Any]
) -> None:
    stranger = Tenant(world.herald)
    response = world.http(stranger).get(f"/v1/audit/phones/{PHONE}")
    assert response.status_code == 200
    assert response.json()["events"] == [] and response.json()["consent"]["status"] == "no_record"


def test_a_campaign_history_pages_through_its_own_batches_and_messages(
    story: dict[str, Any],
) -> None:
    http = story["http"]
    whole = http.get(f"/v1/audit/campaigns/{story['first']}").json()
    events = names(whole)
    assert events[:2] == ["Campaign.Created", "RecipientBatch.Created"]
    assert "Campaign.Completed" in events and events.count("Message.Created") == 2
    batch = whole["events"][1]["facts"]
    assert [r[0] for r in batch["recipients"]] == [PHONE, OTHER_PHONE]
    assert whole["next_after"] is None and whole["sent_after_stop"] == []
    pages, after = [], 0
    while after is not None:
        page = http.get(
            f"/v1/audit/campaigns/{story['first']}", params={"after": after, "limit": 3}
        ).json()
        pages += page["events"]
        after = page["next_after"]
    assert pages == whole["events"]
    second = names(http.get(f"/v1/audit/campaigns/{story['second']}").json())
    assert second.count("Message.Created") == 1  # the phone that said STOP was suppressed


def test_another_accounts_or_an_unknown_campaign_is_not_found(
    world: SendingWorld, story: dict[str, Any]
) -> None:
    stranger = world.http(Tenant(world.herald))
    for campaign in (story["first"], ids.public_id(ids.CAMPAIGN, uuid4()), "smsc_nope", "x"):
        response = stranger.get(f"/v1/audit/campaigns/{campaign}")
        assert response.status_code == 404, campaign
        assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("phone", ["447111000001", "+44 7111 000001", "%2B0000", "+" + "9" * 20])
def test_a_malformed_phone_is_refused_naming_it(story: dict[str, Any], phone: str) -> None:
    response = story["http"].get(f"/v1/audit/phones/{phone}")
    assert response.status_code == 422
    [detail] = response.json()["error"]["details"]
    assert detail["field"] == "phone" and detail["code"] == "not_e164"


@pytest.mark.parametrize(
    "at",
    [
        "yesterday",
        "2026-11-27T10:00:00",
        "2026-13-01",
        "\uff12\uff10\uff12\uff16-11-27",
        "9999-12-31",
    ],
)
def test_a_bad_at_is_refused_naming_it(story: dict[str, Any], at: str) -> None:
    response = story["http"].get("/v1/audit/phones/0044", params={"at": at})
    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert [(d["field"], d["value"]) for d in details] == [("phone", "0044"), ("at", at)]


def test_bad_paging_of_a_campaign_history_is_refused(story: dict[str, Any]) -> None:
    for params in ({"limit": 0}, {"limit": 10_001}, {"after": -1}, {"limit": "x"}):
        response = story["http"].get(f"/v1/audit/campaigns/{story['first']}", params=params)
        assert response.status_code == 422, params
        [detail] = response.json()["error"]["details"]
        assert detail["field"] in params


def herald_cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HERALD, *args],
        env={**os.environ, "DATABASE_URL": database_url, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_herald_audit_phone_prints_the_history(database_url: str, story: dict[str, Any]) -> None:
    account = ids.public_id(ids.ACCOUNT, story["tenant"].account_id)
    done = herald_cli(database_url, "audit", "phone", OTHER_PHONE, "--account", account)
    assert done.returncode == 0, done.stderr
    assert "Consent at" in done.stdout and "no_record" in done.stdout
    assert "Sent after STOP: none" in done.stdout
    assert (
        "Message.StatusReported" in done.stdout and "Consent" not in done.stdout.split("\n", 3)[3]
    )
    at = story["stopped_at"].isoformat()
    held = herald_cli(database_url, "audit", "phone", PHONE, "--account", account, "--at", at)
    assert "opted_out" in held.stdout and "keyword=STOP" in held.stdout


def test_herald_audit_campaign_prints_every_event(database_url: str, story: dict[str, Any]) -> None:
    done = herald_cli(database_url, "audit", "campaign", story["first"])
    assert done.returncode == 0, done.stderr
    assert "Campaign.Created" in done.stdout and "Campaign.Completed" in done.stdout
    assert "Sent after STOP: none" in done.stdout


def test_herald_audit_refuses_bad_options_naming_each(database_url: str) -> None:
    refused = herald_cli(
        database_url, "audit", "phone", "07111", "--account", "bob", "--at", "soon"
    )
    assert refused.returncode == 1
    for named in ("phone: ", "'07111'", "account: ", "'bob'", "at: ", "'soon'"):
        assert named in refused.stderr, (named, refused.stderr)
    nobody = ids.public_id(ids.ACCOUNT, uuid4())
    unknown = herald_cli(database_url, "audit", "phone", PHONE, "--account", nobody)
    assert (
        unknown.returncode == 1 and "no such account" in unknown.stderr and nobody in unknown.stderr
    )
    missing = herald_cli(database_url, "audit", "campaign", "smsc_nope")
    assert missing.returncode == 1 and "campaign smsc_nope not found" in missing.stderr
