"""Nothing goes to a phone once its opt-out is recorded: running campaigns drop the phone's
planned recipients (suppressed, never sent), single sends are refused, and an opt-out
recorded while that phone's message is being submitted waits for it (submitted before the
STOP committed, or never). The simulator's own record is the witness."""

import threading
import time
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

import httpx

from domain import ids
from domain.consent import Consent, consent_id
from tests.integration.conftest import SendingWorld, Tenant, campaign_body, wait_until
from tests.integration.test_sending import finished, recipients


def opted_out_at(world: SendingWorld, account_id: UUID, phone: str) -> datetime:
    consent = world.herald.store.get(Consent, consent_id(account_id, phone))
    assert consent.opted_out and consent.opted_out_at is not None
    return consent.opted_out_at


def status_of(world: SendingWorld, message_id: str) -> str | None:
    with world.herald.pool.connection() as conn:
        row = conn.execute(
            "SELECT status FROM herald.messages WHERE message_id = %s",
            (ids.parse_public_id(ids.MESSAGE, message_id),),
        ).fetchone()
    return row[0] if row else None


def refusals_left(world: SendingWorld, phone: str) -> int:
    """How many of the simulator's planned refusals of messages to `phone` are to come."""
    return len(httpx.get(f"{world.sim.url}/_sim/config").json()["fail_to"].get(phone, []))


def sent_to(world: SendingWorld, tenant: Tenant, phone: str) -> list[datetime]:
    return [
        datetime.fromisoformat(m["date_created"])
        for m in world.sent(tenant.from_number)
        if m["to"] == phone
    ]


def test_phones_opted_out_mid_campaign_get_nothing_after_their_stop(
    world: SendingWorld, sender: Tenant, figure: Callable[[str], None]
) -> None:
    http = world.http(sender)
    listed = recipients(40)
    created = http.post("/v1/sms/campaigns", json=campaign_body(sender, recipients=listed))
    campaign_id = created.json()["campaign_id"]
    wait_until(lambda: len(world.sent(sender.from_number)) >= 5)
    stopped = [str(r["phone"]) for r in listed[10:40:3]]  # ten phones, some soon due
    took = []
    for phone in stopped:
        started = time.monotonic()
        world.herald.consents.opt_out(sender.account_id, phone, "STOP", "sms", f"SMtest{phone}")
        took.append(time.monotonic() - started)
    body = wait_until(finished(http, campaign_id), timeout=60)
    after_stop = {
        phone: [
            at
            for at in sent_to(world, sender, phone)
            if at >= opted_out_at(world, sender.account_id, phone)
        ]
        for phone in stopped
    }
    assert after_stop == {phone: [] for phone in stopped}
    never_sent = [phone for phone in stopped if not sent_to(world, sender, phone)]
    assert never_sent, "the opt-outs came too late to test anything"
    assert body["suppressed_count"] == len(never_sent)
    assert body["total_count"] == 40
    statuses = {
        r["phone"]: r["status"]
        for r in http.get(f"/v1/sms/campaigns/{campaign_id}/recipients?limit=100").json()[
            "recipients"
        ]
    }
    assert {statuses[phone] for phone in never_sent} == {"suppressed"}
    assert len(world.sent(sender.from_number)) == 40 - len(never_sent)
    figure(
        f"opt-outs mid-campaign: {len(stopped)} STOPs, {len(never_sent)} recipients suppressed,"
        f" {len(stopped) - len(never_sent)} sent before their STOP, 0 after; recording an"
        f" opt-out while the account sends at 5 mps took {1000 * min(took):.0f}-"
        f"{1000 * max(took):.0f} ms"
    )


def test_a_stop_recorded_while_the_phone_is_being_submitted_waits_for_that_submission(
    world: SendingWorld, sender: Tenant, figure: Callable[[str], None]
) -> None:
    http = world.http(sender)
    world.simulate(latency=1.5)  # each create is answered 1.5 s after it arrives
    phone = "+447111000777"
    created = http.post(
        "/v1/sms/campaigns",
        json=campaign_body(sender, recipients=[{"phone": phone, "variables": {}}]),
    ).json()
    in_flight = wait_until(
        lambda: (
            world.herald.projector.pool.connection()
            .__enter__()
            .execute(
                "SELECT attempt_state FROM herald.messages WHERE to_phone = %s AND account_id = %s",
                (phone, sender.account_id),
            )
            .fetchone()
            == ("in_flight",)
        ),
        every=0.02,
    )
    assert in_flight
    started = time.monotonic()
    world.herald.consents.opt_out(sender.account_id, phone, "STOP", "sms", "SMmidflight")
    waited = time.monotonic() - started
    stop_at = opted_out_at(world, sender.account_id, phone)
    sent = sent_to(world, sender, phone)
    # Submitted before the STOP committed (it waited for the answer), or never.
    assert all(at < stop_at for at in sent)
    assert len(sent) == 1
    assert waited > 0.3, f"the opt-out did not wait for the submission ({waited:.2f} s)"
    figure(
        f"a STOP recorded during a 1.5 s submission to its phone waited {waited:.2f} s for"
        " Twilio's answer, then committed after it"
    )
    world.simulate(latency=0.0)
    body = wait_until(finished(http, created["campaign_id"]))
    assert body["suppressed_count"] == 0


def test_a_stop_racing_many_submissions_never_lets_one_through_after_it(
    world: SendingWorld, sender: Tenant
) -> None:
    """Each phone's STOP lands at a random moment around its submission."""
    http = world.http(sender)
    world.simulate(latency=0.3)
    listed = recipients(15, start=500)
    created = http.post("/v1/sms/campaigns", json=campaign_body(sender, recipients=listed))
    campaign_id = created.json()["campaign_id"]
    phones = [str(r["phone"]) for r in listed]
    threads = []
    for i, phone in enumerate(phones):

        def stop(phone: str = phone, delay: float = 0.2 * i) -> None:
            time.sleep(delay)
            world.herald.consents.opt_out(sender.account_id, phone, "STOP", "sms", "SMrace")

        threads.append(threading.Thread(target=stop))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    world.simulate(latency=0.0)
    body = wait_until(finished(http, campaign_id), timeout=60)
    for phone in phones:
        stop_at = opted_out_at(world, sender.account_id, phone)
        assert all(at < stop_at for at in sent_to(world, sender, phone)), phone
    sent = len(world.sent(sender.from_number))
    assert body["suppressed_count"] == 15 - sent
    assert body["total_count"] == 15


def test_a_single_send_to_an_opted_out_phone_is_refused(
    world: SendingWorld, sender: Tenant
) -> None:
    phone = "+447111000888"
    world.herald.consents.opt_out(sender.account_id, phone, "STOP", "sms", "SMx")
    answer = world.http(sender).post(
        "/v1/sms",
        json={
            "agent_id": sender.agent_id,
            "from_number": sender.from_number,
            "to": phone,
            "message": "Hi",
        },
    )
    assert answer.status_code == 422
    (detail,) = answer.json()["error"]["details"]
    assert (detail["field"], detail["value"], detail["code"]) == (
        "to",
        phone,
        "recipient_opted_out",
    )


def test_a_single_send_waiting_to_be_retried_is_suppressed_once_its_phone_opts_out(
    world: SendingWorld, sender: Tenant
) -> None:
    http = world.http(sender)
    phone = "+447111000889"
    # Refused six times (retried after 0.5-1, 1-2, 2-4, 4-8, 8-16 s...): the opt-out is
    # recorded while the message waits for a retry, however loaded the machine. Only this
    # phone's messages are refused: in a whole session, the world's dispatcher also sends
    # what earlier tests left due, which used up the simulator's `fail_next` before this
    # message came (and it went out before its STOP).
    refusals = 6
    world.simulate(fail_to={phone: [429] * refusals})
    message_id = http.post(
        "/v1/sms",
        json={
            "agent_id": sender.agent_id,
            "from_number": sender.from_number,
            "to": phone,
            "message": "Hi",
        },
    ).json()["message_id"]
    wait_until(lambda: refusals_left(world, phone) < refusals, timeout=60, every=0.02)
    world.herald.consents.opt_out(sender.account_id, phone, "STOP", "sms", "SMy")
    wait_until(lambda: status_of(world, message_id) == "suppressed", timeout=60)
    assert sent_to(world, sender, phone) == []
    assert httpx.get(f"{world.sim.url}/_sim/messages").status_code == 200
