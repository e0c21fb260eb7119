"""Inbound SMS through the simulator's signed webhooks: threads, keywords, bad requests."""

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from twilio.request_validator import RequestValidator

from domain.conversation import conversation_id
from domain.ids import CONVERSATION, public_id
from interfaces.settings import SIMULATOR_ACCOUNT_SID, SIMULATOR_AUTH_TOKEN
from tests.conftest import now
from tests.integration.conftest import OTHER_TWILIO_SID, SendingWorld, Tenant, wait_until
from tests.integration.test_status_callbacks import single

PATH = "/webhooks/twilio/inbound"
PHONE = "+447386172392"  # where test_status_callbacks.single sends


def text_in(
    world: SendingWorld, tenant: Tenant, body: str, phone: str = PHONE, **more: Any
) -> dict:
    """The simulator sends `body` from `phone` to the tenant's number, signed as Twilio would."""
    answer = httpx.post(
        f"{world.sim.url}/_sim/inbound",
        json={
            "url": world.api.url + PATH,
            "from": phone,
            "to": more.pop("to", tenant.from_number),
            "body": body,
            **more,
        },
    )
    answer.raise_for_status()
    return answer.json()


def post_signed(
    world: SendingWorld,
    params: dict[str, str],
    token: str = SIMULATOR_AUTH_TOKEN,
    sign: bool = True,
) -> httpx.Response:
    url = world.herald.settings.public_url + PATH
    headers = (
        {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, params)}
        if sign
        else {}
    )
    return httpx.post(world.api.url + PATH, data=params, headers=headers)


def inbound_params(tenant: Tenant, body: str, sid: str, phone: str = PHONE) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": SIMULATOR_ACCOUNT_SID,
        "MessagingServiceSid": "",
        "From": phone,
        "To": tenant.from_number,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "FromCountry": "GB",
        "ApiVersion": "2010-04-01",
    }


def rows(world: SendingWorld, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with world.herald.pool.connection() as conn:
        return conn.execute(query, params).fetchall()  # type: ignore[arg-type]


def inbound_of(world: SendingWorld, tenant: Tenant) -> list[tuple[Any, ...]]:
    return rows(
        world,
        "SELECT from_phone, body, kind, keyword FROM herald.inbound_messages"
        " WHERE account_id = %s ORDER BY received_at",
        tenant.account_id,
    )


def opted_out(world: SendingWorld, tenant: Tenant, phone: str) -> bool | None:
    found = rows(
        world,
        "SELECT opted_out FROM herald.consents WHERE account_id = %s AND phone = %s",
        tenant.account_id,
        phone,
    )
    return found[0][0] if found else None


def test_a_reply_joins_the_thread_after_the_message_it_answers(
    world: SendingWorld, sender: Tenant
) -> None:
    message = single(world, sender)
    answer = text_in(world, sender, "Yes please, Tuesday 10am")
    assert answer["status"] == 200
    assert "<Response/>" in answer["body"]
    http = world.http(sender)
    thread = http.get(f"/v1/sms/{message['message_id']}").json()["conversation"]
    assert [(t["direction"], t["body"]) for t in thread] == [
        ("outbound", "hello"),
        ("inbound", "Yes please, Tuesday 10am"),
    ]
    assert thread[0]["message_id"] == message["message_id"]
    assert thread[1]["status"] == "received" and thread[1]["kind"] == "reply"
    assert thread[1]["twilio_sid"].startswith("SM")
    [replied_to] = rows(
        world,
        "SELECT in_reply_to FROM herald.inbound_messages WHERE account_id = %s",
        sender.account_id,
    )
    assert replied_to[0].hex == message["message_id"][4:]


def test_conversations_are_listed_newest_first_filtered_and_shown_with_their_thread(
    world: SendingWorld, sender: Tenant
) -> None:
    message = single(world, sender)
    text_in(world, sender, "first", phone="+447700900001")
    text_in(world, sender, "Thanks!")  # from PHONE, which was sent `message`
    http = world.http(sender)
    listed = http.get("/v1/conversations").json()
    assert [c["phone"] for c in listed["conversations"]] == [PHONE, "+447700900001"]
    assert listed["next_cursor"] is None
    page = http.get("/v1/conversations", params={"limit": 1}).json()
    assert [c["phone"] for c in page["conversations"]] == [PHONE]
    rest = http.get("/v1/conversations", params={"cursor": page["next_cursor"]}).json()
    assert [c["phone"] for c in rest["conversations"]] == ["+447700900001"]
    by_phone = http.get("/v1/conversations", params={"phone": "+447700900001"}).json()
    assert [c["phone"] for c in by_phone["conversations"]] == ["+447700900001"]
    by_number = http.get("/v1/conversations", params={"number": "+15550000000"}).json()
    assert by_number["conversations"] == []
    [mine] = [c for c in listed["conversations"] if c["phone"] == PHONE]
    assert mine["conversation_id"] == public_id(
        CONVERSATION, conversation_id(sender.account_id, sender.from_number, PHONE)
    )
    assert mine["inbound_count"] == 1
    assert mine["awaiting_reply_since"] is not None and mine["last_kind"] == "reply"
    shown = http.get(f"/v1/conversations/{mine['conversation_id']}").json()
    assert [(t["direction"], t["body"]) for t in shown["thread"]] == [
        ("outbound", "hello"),
        ("inbound", "Thanks!"),
    ]
    assert shown["thread"][0]["message_id"] == message["message_id"]
    assert shown["thread_truncated"] is False


def test_another_accounts_conversation_is_not_found(world: SendingWorld, sender: Tenant) -> None:
    text_in(world, sender, "hello?")
    other = Tenant(world.herald)
    http = world.http(other)
    conversation = public_id(
        CONVERSATION, conversation_id(sender.account_id, sender.from_number, PHONE)
    )
    assert http.get(f"/v1/conversations/{conversation}").status_code == 404
    assert http.get("/v1/conversations").json()["conversations"] == []
    assert http.get("/v1/conversations/conv_nope").status_code == 404
    assert http.get("/v1/conversations/conv_%00" + "0" * 31).status_code == 404
    refused = http.get("/v1/conversations", params={"phone": "+44\x00", "number": "x" * 41})
    assert refused.status_code == 422
    assert [d["field"] for d in refused.json()["error"]["details"]] == ["phone", "number"]
    assert http.get("/v1/conversations", params={"cursor": "\x00garbage"}).status_code == 200
    assert world.http(sender).get(f"/v1/conversations/{conversation}").status_code == 200


def test_forged_missing_and_other_account_signatures_are_refused_and_nothing_recorded(
    world: SendingWorld, sender: Tenant
) -> None:
    params = inbound_params(sender, "STOP", "SM" + "f" * 32)
    assert post_signed(world, params, token="not-the-token").status_code == 403
    assert post_signed(world, params, sign=False).status_code == 403
    assert post_signed(world, params).status_code == 200  # the genuine one
    params2 = inbound_params(sender, "hello", "SM" + "e" * 32)
    url = world.herald.settings.public_url + PATH
    signature = RequestValidator(SIMULATOR_AUTH_TOKEN).compute_signature(url, params2)
    changed = {**params2, "Body": "STOP"}
    tampered = httpx.post(  # signed, then changed on the way
        world.api.url + PATH, data=changed, headers={"X-Twilio-Signature": signature}
    )
    assert tampered.status_code == 403
    # Signed by another Twilio account the simulator knows: not the number owner's token.
    assert (
        text_in(world, sender, "STOP", phone="+447700900002", account_sid=OTHER_TWILIO_SID)[
            "status"
        ]
        == 403
    )
    # Only the correctly signed one was recorded.
    assert inbound_of(world, sender) == [(PHONE, "STOP", "opt_out", "STOP")]
    assert opted_out(world, sender, "+447700900002") is None


def test_inbound_to_a_number_nobody_owns_is_answered_200_and_recorded_nowhere(
    world: SendingWorld, sender: Tenant
) -> None:
    before = rows(world, "SELECT count(*) FROM herald.inbound_messages")[0][0]
    answer = text_in(world, sender, "STOP", to="+447700900999")
    assert answer["status"] == 200 and "<Response/>" in answer["body"]
    junk_to = {**inbound_params(sender, "STOP", "SM" + "9" * 32), "To": "+44\x00744"}
    assert post_signed(world, junk_to).status_code == 200
    assert rows(world, "SELECT count(*) FROM herald.inbound_messages")[0][0] == before
    assert rows(
        world, "SELECT count(*) FROM herald.conversations WHERE number = %s", "+447700900999"
    ) == [(0,)]


def test_the_same_sid_twice_is_recorded_once(world: SendingWorld, sender: Tenant) -> None:
    params = inbound_params(sender, "Can I move it to 3pm?", "SM" + "a" * 32)
    first = post_signed(world, params)
    again = post_signed(world, params)
    assert first.status_code == again.status_code == 200
    assert first.headers["content-type"].startswith("text/xml")
    assert inbound_of(world, sender) == [(PHONE, "Can I move it to 3pm?", "reply", None)]
    [(count,)] = rows(
        world,
        "SELECT inbound_count FROM herald.conversations WHERE account_id = %s",
        sender.account_id,
    )
    assert count == 1


@pytest.mark.parametrize(
    ("body", "kind", "keyword"), [("STOP", "opt_out", "STOP"), ("Hello there", "reply", None)]
)
def test_the_same_sid_delivered_concurrently_is_recorded_once(
    world: SendingWorld, sender: Tenant, body: str, kind: str, keyword: str | None
) -> None:
    # A STOP waits for the account's guard, one at a time; replies race to the same
    # conversation version, and the losers load it again and find the SID recorded.
    params = inbound_params(sender, body, "SM" + "7" * 32)
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: post_signed(world, params).status_code, range(6)))
    assert answers == [200] * 6
    assert inbound_of(world, sender) == [(PHONE, body, kind, keyword)]
    [(count,)] = rows(
        world,
        "SELECT inbound_count FROM herald.conversations WHERE account_id = %s",
        sender.account_id,
    )
    assert count == 1


def test_keywords_in_odd_spellings_opt_out_and_back_in(world: SendingWorld, sender: Tenant) -> None:
    phones = [f"+4477009001{n:02d}" for n in range(6)]
    for phone, body in zip(
        phones, ["  stop! ", "Stop.", "\tUNSUBSCRIBE\n", "cancel", "End…", "QuIt"], strict=True
    ):
        text_in(world, sender, body, phone=phone)
        # Answered once recorded and projected: the dispatcher already sees it.
        assert opted_out(world, sender, phone) is True, body
    text_in(world, sender, "stop please", phone="+447700900200")
    assert opted_out(world, sender, "+447700900200") is None
    [(keyword, source, evidence)] = rows(
        world,
        "SELECT last_keyword, opt_out_source, opt_out_evidence FROM herald.consents"
        " WHERE account_id = %s AND phone = %s",
        sender.account_id,
        phones[0],
    )
    [(sid,)] = rows(
        world,
        "SELECT twilio_sid FROM herald.inbound_messages WHERE from_phone = %s AND account_id = %s",
        phones[0],
        sender.account_id,
    )
    assert (keyword, source, evidence) == ("STOP", "sms", sid)
    # A single send to an opted-out phone is refused.
    refused = world.http(sender).post(
        "/v1/sms",
        json={
            "agent_id": sender.agent_id,
            "to": phones[0],
            "from_number": sender.from_number,
            "message": "hi",
        },
    )
    assert refused.status_code == 422
    text_in(world, sender, "start", phone=phones[0])
    assert opted_out(world, sender, phones[0]) is False


def test_yes_opts_back_in_an_opted_out_phone_and_is_a_reply_from_others(
    world: SendingWorld, sender: Tenant
) -> None:
    text_in(world, sender, "STOP", phone="+447700900301")
    text_in(world, sender, "Yes!", phone="+447700900301")
    text_in(world, sender, "yes", phone="+447700900302")
    assert opted_out(world, sender, "+447700900301") is False
    assert opted_out(world, sender, "+447700900302") is None
    kinds = rows(
        world,
        "SELECT from_phone, kind FROM herald.inbound_messages WHERE account_id = %s"
        " ORDER BY received_at",
        sender.account_id,
    )
    assert kinds == [
        ("+447700900301", "opt_out"),
        ("+447700900301", "opt_in"),
        ("+447700900302", "reply"),
    ]
    [(source,)] = rows(
        world,
        "SELECT opt_in_source FROM herald.consents WHERE account_id = %s AND phone = %s",
        sender.account_id,
        "+447700900301",
    )
    assert source == "sms:YES"


def test_help_is_answered_with_the_accounts_help_text_but_not_to_an_opted_out_phone(
    world: SendingWorld, sender: Tenant
) -> None:
    [(name,)] = rows(
        world, "SELECT name FROM herald.accounts WHERE account_id = %s", sender.account_id
    )
    text_in(world, sender, "HELP", phone="+447386172401")
    sent = wait_until(lambda: world.sent(sender.from_number))
    assert [(m["to"], m["body"]) for m in sent] == [
        ("+447386172401", f"{name}: reply to this number to reach us. Reply STOP to opt out.")
    ]
    http = world.http(sender)
    assert (
        http.put(
            "/v1/account/help_text", json={"help_text": "Acme: call 0161 000 0000. STOP to end."}
        ).status_code
        == 200
    )
    assert http.get("/v1/account/help_text").json() == {
        "help_text": "Acme: call 0161 000 0000. STOP to end."
    }
    text_in(world, sender, "info?", phone="+447386172402")
    wait_until(lambda: len(world.sent(sender.from_number)) == 2)
    assert world.sent(sender.from_number)[1]["body"] == "Acme: call 0161 000 0000. STOP to end."
    # An opted-out phone asking for help gets nothing: nothing goes to it after its STOP.
    text_in(world, sender, "STOP", phone="+447386172403")
    text_in(world, sender, "HELP", phone="+447386172403")
    assert [k for (_, _, k, _) in inbound_of(world, sender)][-2:] == ["opt_out", "help"]
    time.sleep(1.0)  # the dispatcher plans every 0.2 s: what it would send is out by now
    assert [m["to"] for m in world.sent(sender.from_number)] == ["+447386172401", "+447386172402"]


def test_help_is_answered_in_quiet_hours_it_answers_the_person(
    world: SendingWorld, sender: Tenant
) -> None:
    local = now().astimezone(ZoneInfo("Europe/London"))
    window = (f"{(local - timedelta(hours=1)):%H:%M}", f"{(local + timedelta(hours=2)):%H:%M}")
    quiet = Tenant(world.herald, quiet_hours=window)  # in quiet hours now, where the phone is
    text_in(world, quiet, "help", phone="+447386172404")
    [answer] = wait_until(lambda: world.sent(quiet.from_number))
    assert answer["to"] == "+447386172404" and answer["body"].endswith("Reply STOP to opt out.")
    # An unprompted single send of the same account is held.
    held = world.http(quiet).post(
        "/v1/sms",
        json={
            "agent_id": quiet.agent_id,
            "to": "+447386172405",
            "from_number": quiet.from_number,
            "message": "Offer",
        },
    )
    assert held.json()["deferred_until"] is not None


def test_unusual_bodies_and_senders_are_stored_safely_without_a_5xx(
    world: SendingWorld, sender: Tenant
) -> None:
    failures = len(world.herald.projector.failures())
    control = inbound_params(sender, "hi\x00there\x07\nsecond line\ttab", "SM" + "b" * 32)
    assert post_signed(world, control).status_code == 200
    long = inbound_params(sender, "x" * 5000, "SM" + "c" * 32)
    assert post_signed(world, long).status_code == 200
    junk_from = inbound_params(sender, "HELP", "SM" + "d" * 32, phone="not a phone\x00")
    assert post_signed(world, junk_from).status_code == 200  # recorded; no help can go to it
    short_code = inbound_params(sender, "hello", "SM" + "1" * 32, phone="12345")
    assert post_signed(world, short_code).status_code == 200
    no_sid = inbound_params(sender, "hello", "")
    assert post_signed(world, no_sid).status_code == 422
    bad_sid = inbound_params(sender, "hello", "SM\x00" + "2" * 32)
    assert post_signed(world, bad_sid).status_code == 422
    no_from = inbound_params(sender, "hello", "SM" + "3" * 32, phone="")
    assert post_signed(world, no_from).status_code == 422
    stored = {body[:8]: phone for phone, body, _, _ in inbound_of(world, sender)}
    assert stored["hi\\u0000"] == PHONE
    [(body,)] = rows(
        world,
        "SELECT body FROM herald.inbound_messages WHERE twilio_sid = %s",
        "SM" + "b" * 32,
    )
    assert body == "hi\\u0000there\\u0007\nsecond line\ttab"
    [(long_body,)] = rows(
        world,
        "SELECT body FROM herald.inbound_messages WHERE twilio_sid = %s",
        "SM" + "c" * 32,
    )
    assert long_body == "x" * 1600 + "…"
    assert "not a phone\\u0000" in stored.values()
    assert len(world.herald.projector.failures()) == failures


def test_inbound_replies_are_recorded_and_answered_quickly(
    world: SendingWorld, sender: Tenant, figure: Callable[[str], None]
) -> None:
    timings = []
    with httpx.Client(base_url=world.api.url) as http:
        url = world.herald.settings.public_url + PATH
        validator = RequestValidator(SIMULATOR_AUTH_TOKEN)
        for n in range(200):
            phone = f"+4473861{n:05d}"
            params = inbound_params(sender, f"Reply {n}", f"SM{n:032x}", phone=phone)
            headers = {"X-Twilio-Signature": validator.compute_signature(url, params)}
            started = time.perf_counter()
            assert http.post(PATH, data=params, headers=headers).status_code == 200
            timings.append(time.perf_counter() - started)
    timings.sort()
    p50, p99 = timings[len(timings) // 2], timings[int(len(timings) * 0.99)]
    figure(
        f"inbound webhook, 200 signed replies one after another (new conversations): "
        f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms (recorded and projected)"
    )
    assert len(inbound_of(world, sender)) == 200
    assert p99 < 2.0
