"""The agent replies: replies texted through the simulator's signed inbound webhooks are
answered by the agent's responder (a webhook server and an OpenAI-compatible chat
completions server, both real HTTP servers started here) and the answer goes back to the
phone through the dispatcher and the simulator. Failures are recorded on the thread once,
never retried; quiet hours never hold an answer to a fresh reply, but do hold one to an old
reply and any unprompted message.

The world's clock reads 22:30 in London (quiet hours, 21:00-09:00) when the module starts,
and runs at the real pace.
"""

import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest

from application.ports import SystemClock
from domain import ids
from domain.conversation import Conversation, conversation_id
from domain.keywords import read
from interfaces.dispatcher import DispatcherProcess
from tests.integration.conftest import SendingWorld, Tenant, sharing, wait_until
from tests.integration.responder_servers import (
    LocalServer,
    Reply,
    Switchable,
    completion,
    text_reply,
)

HALF_PAST_TEN_PM = datetime(2026, 11, 26, 22, 30, tzinfo=UTC)  # GMT: London is UTC
NINE_AM = "2026-11-27T09:00:00Z"
TIMEOUT = 1.0  # the responders' timeout in this world
PATH = "/webhooks/twilio/inbound"


@pytest.fixture(scope="module")
def hook() -> Iterator[tuple[LocalServer, Switchable]]:
    answer = Switchable(text_reply("Tuesday at 10 is free."))
    server = LocalServer(answer)
    yield server, answer
    server.stop()


@pytest.fixture(scope="module")
def chat() -> Iterator[tuple[LocalServer, Switchable]]:
    answer = Switchable(completion("We open at 9 on Tuesday."))
    server = LocalServer(answer)
    yield server, answer
    server.stop()


@pytest.fixture(scope="module")
def night(
    database_url: str, hook: tuple[LocalServer, Switchable], chat: tuple[LocalServer, Switchable]
) -> Iterator[SendingWorld]:
    world = SendingWorld(
        database_url,
        clock=SystemClock.starting_at(HALF_PAST_TEN_PM),
        settings={
            "openai_base_url": chat[0].url + "/v1",
            "openai_model": "tiny-test-model",
            "openai_api_key": "sk-local",
            "responder_timeout": TIMEOUT,
        },
    )
    yield world
    world.close()


@pytest.fixture
def tenant(
    night: SendingWorld, hook: tuple[LocalServer, Switchable], chat: tuple[LocalServer, Switchable]
) -> Tenant:
    """A tenant with quiet hours 21:00-09:00 (so it is quiet now), the servers reset."""
    httpx.post(f"{night.sim.url}/_sim/reset").raise_for_status()
    for server, _ in (hook, chat):
        server.received.clear()
    hook[1].reply = text_reply("Tuesday at 10 is free.")
    chat[1].reply = completion("We open at 9 on Tuesday.")
    return Tenant(night.herald, quiet_hours=("21:00", "09:00"))


def set_responder(world: SendingWorld, tenant: Tenant, kind: str, url: str | None = None) -> None:
    body: dict[str, Any] = {"kind": kind} if url is None else {"kind": kind, "url": url}
    answer = world.http(tenant).put(f"/v1/agents/{tenant.agent_id}/responder", json=body)
    assert answer.status_code == 200, answer.text


def text_in(world: SendingWorld, tenant: Tenant, phone: str, body: str) -> None:
    """The simulator sends `body` from `phone` to the tenant's number, signed."""
    answer = httpx.post(
        f"{world.sim.url}/_sim/inbound",
        json={"url": world.api.url + PATH, "from": phone, "to": tenant.from_number, "body": body},
    )
    answer.raise_for_status()
    assert answer.json()["status"] == 200, answer.json()


def sent_to(world: SendingWorld, tenant: Tenant, phone: str) -> list[dict[str, Any]]:
    return [m for m in world.sent(tenant.from_number) if m["to"] == phone]


def conversation(world: SendingWorld, tenant: Tenant, phone: str) -> dict[str, Any]:
    uuid = conversation_id(tenant.account_id, tenant.from_number, phone)
    path = f"/v1/conversations/{ids.public_id(ids.CONVERSATION, uuid)}"
    answer = world.http(tenant).get(path)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def answered(world: SendingWorld, tenant: Tenant, phone: str) -> dict[str, Any]:
    """The conversation once its last answer is recorded (sent or failed)."""

    def done() -> dict[str, Any] | None:
        shown = conversation(world, tenant, phone)
        finished = shown["answer_requested_at"] is None and shown["awaiting_reply_since"] is None
        return shown if finished and shown["last_answer_status"] else None

    return wait_until(done, timeout=20)  # type: ignore[no-any-return]


def test_a_webhook_answer_goes_back_to_the_phone_at_night_through_the_dispatcher(
    night: SendingWorld,
    tenant: Tenant,
    hook: tuple[LocalServer, Switchable],
    figure: Callable[[str], None],
) -> None:
    server, _ = hook
    set_responder(night, tenant, "webhook", server.url + "/reception")
    phone = "+447386100101"
    started = time.monotonic()
    text_in(night, tenant, phone, "Can I book a cleaning on Tuesday?")
    [answer] = wait_until(lambda: sent_to(night, tenant, phone), timeout=20, every=0.02)
    figure(
        f"reply texted in -> webhook answer at the simulator: {time.monotonic() - started:.2f} s"
    )
    assert answer["body"] == "Tuesday at 10 is free."  # at 22:30, in quiet hours: not held
    [request] = server.received
    assert request.path == "/reception"
    body = request.json()
    assert body["agent_id"] == tenant.agent_id and body["system_prompt"] == "Be kind."
    assert body["phone"] == phone and body["sender_number"] == tenant.from_number
    assert [(t["direction"], t["body"]) for t in body["thread"]] == [
        ("inbound", "Can I book a cleaning on Tuesday?")
    ]
    assert body["trimmed"] is False and body["omitted"] == 0
    shown = answered(night, tenant, phone)
    assert shown["last_answer_status"] == "sent" and shown["answers_sent"] == 1
    [recorded] = shown["answers"]
    assert recorded["outcome"] == "sent" and recorded["responder"] == "webhook"
    # It went like any message: signed status callbacks bring it to delivered.
    message = night.http(tenant).get(f"/v1/sms/{recorded['message_id']}")
    delivered = wait_until(
        lambda: (
            (m := night.http(tenant).get(f"/v1/sms/{recorded['message_id']}").json())["status"]
            == "delivered"
            and m
        )
    )
    assert message.status_code == 200 and delivered["deferred_until"] is None
    assert [t["direction"] for t in shown["thread"]] == ["inbound", "outbound"]


def test_an_openai_answer_carries_the_system_prompt_and_the_thread_as_turns(
    night: SendingWorld, tenant: Tenant, chat: tuple[LocalServer, Switchable]
) -> None:
    server, answer = chat
    set_responder(night, tenant, "openai")
    phone = "+447386100102"
    text_in(night, tenant, phone, "Hi, are you open Tuesday?")
    wait_until(lambda: sent_to(night, tenant, phone), timeout=20)
    answered(night, tenant, phone)
    answer.reply = completion("Yes, see you then!")
    text_in(night, tenant, phone, "Great, 9am then")
    wait_until(lambda: len(sent_to(night, tenant, phone)) == 2, timeout=20)
    assert [m["body"] for m in sent_to(night, tenant, phone)] == [
        "We open at 9 on Tuesday.",
        "Yes, see you then!",
    ]
    first, second = (r.json() for r in server.received)
    assert first["model"] == "tiny-test-model"
    assert server.received[0].headers["authorization"] == "Bearer sk-local"
    assert first["messages"] == [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "Hi, are you open Tuesday?"},
    ]
    assert second["messages"] == [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "Hi, are you open Tuesday?"},
        {"role": "assistant", "content": "We open at 9 on Tuesday."},
        {"role": "user", "content": "Great, 9am then"},
    ]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        (Reply(status=500, body=b"Internal Server Error"), "http_error"),
        (text_reply("too late", delay=TIMEOUT + 1.0), "timeout"),
        (Reply(body=b"\x00\xffgarbage{"), "unusable_answer"),
        (text_reply("   "), "empty_answer"),
        (None, "connection_failed"),
    ],
    ids=["http_500", "timeout", "garbage", "empty", "connection_refused"],
)
def test_a_responder_that_fails_leaves_the_reply_kept_the_failure_on_the_thread_and_is_not_asked_again(
    night: SendingWorld,
    tenant: Tenant,
    hook: tuple[LocalServer, Switchable],
    reply: Reply | None,
    code: str,
) -> None:
    server, answer = hook
    url = server.url if reply is not None else f"http://127.0.0.1:{closed_port()}"
    if reply is not None:
        answer.reply = reply
    set_responder(night, tenant, "webhook", url)
    phone = "+447386100103"
    text_in(night, tenant, phone, "Hello?")
    shown = answered(night, tenant, phone)
    assert shown["last_answer_status"] == "failed"
    assert shown["last_answer_error"].startswith(code + ":"), shown["last_answer_error"]
    assert shown["answers_failed"] == 1 and shown["answers_sent"] == 0
    [failed] = shown["answers"]
    assert failed["outcome"] == "failed" and failed["error_code"] == code
    assert [(t["direction"], t["body"]) for t in shown["thread"]] == [("inbound", "Hello?")]
    time.sleep(2.0)  # four more ticks of the reply worker: it does not ask again
    assert len(server.received) == (1 if reply is not None else 0)
    assert sent_to(night, tenant, phone) == []
    assert conversation(night, tenant, phone)["answers_failed"] == 1
    # The dispatcher lives on: with the webhook well again, the next reply is answered.
    answer.reply = text_reply("Sorry, we are here now.")
    set_responder(night, tenant, "webhook", server.url)
    text_in(night, tenant, phone, "Anyone?")
    [sent] = wait_until(lambda: sent_to(night, tenant, phone), timeout=20)
    assert sent["body"] == "Sorry, we are here now."


def record_thread(world: SendingWorld, tenant: Tenant, phone: str, count: int, ago: float) -> UUID:
    """`count` replies from `phone`, received one a second until `ago` seconds ago, recorded
    in one go (as the inbound webhook records each)."""
    store = world.herald.store
    agent = ids.parse_public_id(ids.AGENT, tenant.agent_id)
    assert agent is not None
    conv = Conversation(tenant.account_id, agent, tenant.from_number, phone)
    start = world.herald.clock.now() - timedelta(seconds=ago + count)
    for i in range(count):
        body = f"message {i}"
        conv.receive(
            f"SM{phone[1:]}{i:020d}", body, start + timedelta(seconds=i), read(body, False), None
        )
    world.herald.read_models.catch_up(until=store.record(conv))
    return conv.id


def test_a_thread_of_1000_messages_is_trimmed_to_the_newest_that_fit_and_says_so(
    night: SendingWorld, tenant: Tenant, chat: tuple[LocalServer, Switchable]
) -> None:
    server, _ = chat
    phone = "+447386100104"
    record_thread(night, tenant, phone, 1000, ago=60)
    set_responder(night, tenant, "openai")  # now the waiting replies are answered
    wait_until(lambda: sent_to(night, tenant, phone), timeout=20)
    [request] = [r.json() for r in server.received]
    system, *turns = request["messages"]
    assert len(turns) == 50
    assert [t["content"] for t in turns] == [f"message {i}" for i in range(950, 1000)]
    assert system["content"] == (
        "Be kind.\n\n(This conversation has 1000 messages; only the newest 50 are shown.)"
    )
    [recorded] = answered(night, tenant, phone)["answers"]
    assert (recorded["turns"], recorded["omitted"]) == (50, 950)


def test_an_answer_to_a_reply_older_than_an_hour_is_held_like_an_unprompted_message(
    night: SendingWorld, tenant: Tenant, hook: tuple[LocalServer, Switchable]
) -> None:
    server, _ = hook
    old_phone, fresh_phone = "+447386100105", "+447386100106"
    record_thread(night, tenant, old_phone, 1, ago=2 * 3600)  # at 20:30: two hours ago
    set_responder(night, tenant, "webhook", server.url)
    shown = answered(night, tenant, old_phone)
    assert shown["last_answer_status"] == "sent"
    message_id = shown["answers"][0]["message_id"]
    held = night.http(tenant).get(f"/v1/sms/{message_id}").json()
    assert held["status"] == "pending" and held["deferred_until"] == NINE_AM
    # An unprompted single send at the same hour is held too; a fresh reply's answer is not.
    unprompted = night.http(tenant).post(
        "/v1/sms",
        json={
            "agent_id": tenant.agent_id,
            "to": fresh_phone,
            "from_number": tenant.from_number,
            "message": "Our offer ends soon!",
        },
    )
    assert unprompted.json()["deferred_until"] == NINE_AM
    text_in(night, tenant, fresh_phone, "What offer?")
    [sent] = wait_until(lambda: sent_to(night, tenant, fresh_phone), timeout=20)
    assert sent["body"] == "Tuesday at 10 is free."
    time.sleep(1.0)
    assert sent_to(night, tenant, old_phone) == []
    assert [m["body"] for m in sent_to(night, tenant, fresh_phone)] == ["Tuesday at 10 is free."]


def test_a_phone_that_opts_out_while_its_answer_is_written_gets_no_answer(
    night: SendingWorld, tenant: Tenant, hook: tuple[LocalServer, Switchable]
) -> None:
    server, answer = hook
    answer.reply = text_reply("Here is our price list…", delay=TIMEOUT * 0.6)
    set_responder(night, tenant, "webhook", server.url)
    phone = "+447386100107"
    text_in(night, tenant, phone, "How much?")
    wait_until(lambda: server.received, timeout=10)  # the responder is writing
    text_in(night, tenant, phone, "STOP")
    shown = answered(night, tenant, phone)
    assert shown["last_answer_status"] == "failed"
    assert shown["last_answer_error"].startswith("recipient_opted_out:")
    time.sleep(1.0)
    assert sent_to(night, tenant, phone) == []


def test_two_dispatchers_answer_each_reply_once(
    night: SendingWorld,
    tenant: Tenant,
    hook: tuple[LocalServer, Switchable],
    figure: Callable[[str], None],
) -> None:
    server, _ = hook
    other = sharing(night.herald, clock=night.herald.clock)  # a second process, as it were
    second = DispatcherProcess(other, lease=2.0, attempt_timeout=3.0)
    second.start()
    try:
        set_responder(night, tenant, "webhook", server.url)
        phones = [f"+4473861002{i:02d}" for i in range(12)]
        for phone in phones:
            text_in(night, tenant, phone, "Hello from " + phone)
        wait_until(lambda: all(sent_to(night, tenant, p) for p in phones), timeout=30, every=0.2)
        time.sleep(1.5)
        assert sorted(m["to"] for m in night.sent(tenant.from_number)) == phones
        asked = sorted(r.json()["phone"] for r in server.received)
        assert asked == phones  # each asked once
        recorded = answers_of(night, tenant)
        assert len(recorded) == 12 and {a["outcome"] for a in recorded} == {"sent"}
        by = Counter(a["requested_by"] for a in recorded)
        figure(f"12 replies, two dispatchers: answers requested by each {sorted(by.values())}")
    finally:
        second.stop()
        other.close()


def answers_of(world: SendingWorld, tenant: Tenant) -> list[dict[str, Any]]:
    with world.herald.pool.connection() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT requested_by, outcome FROM herald.answers WHERE account_id = %s",
            (tenant.account_id,),
        )
        return [{"requested_by": r[0], "outcome": r[1]} for r in cur.fetchall()]
