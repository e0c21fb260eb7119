"""The responders (interfaces/responders.py) against small local servers: a webhook and an
OpenAI-compatible chat completions endpoint, real HTTP on threads; the real `openai`
client. Each failure is a ResponderFailed with its code, after one request (no retries)."""

import socket
from collections.abc import Iterator
from datetime import UTC, datetime

import msgspec
import pytest

from application.ports import ReplyRequest, ResponderFailed, ThreadTurn
from interfaces.responders import OpenAIResponder, Responders, WebhookResponder
from tests.integration.responder_servers import (
    LocalServer,
    Reply,
    Switchable,
    completion,
    local_server,
    text_reply,
)

AT = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
REQUEST = ReplyRequest(
    agent_id="agent_" + "1" * 32,
    conversation_id="conv_" + "2" * 32,
    phone="+447111000001",
    sender_number="+447446466847",
    system_prompt="You are Acme Dental's receptionist.",
    thread=[
        ThreadTurn("outbound", "20% off cleanings this month. Reply YES to book.", AT),
        ThreadTurn("inbound", "Yes please, Tuesday?", AT),
    ],
    trimmed=False,
    omitted=0,
)


@pytest.fixture
def webhook() -> Iterator[tuple[LocalServer, Switchable]]:
    answer = Switchable(text_reply("Tuesday at 10 is free."))
    with local_server(answer) as server:
        yield server, answer


@pytest.fixture
def chat() -> Iterator[tuple[LocalServer, Switchable]]:
    answer = Switchable(completion("Tuesday at 10 is free."))
    with local_server(answer) as server:
        yield server, answer


def responders(chat_url: str = "http://127.0.0.1:9/v1", timeout: float = 2.0) -> Responders:
    return Responders(
        WebhookResponder(timeout),
        OpenAIResponder(f"{chat_url}", "test-model", "sk-test", timeout),
    )


def failure(call: object) -> ResponderFailed:
    with pytest.raises(ResponderFailed) as raised:
        call()  # type: ignore[operator]
    return raised.value


def test_the_webhook_is_posted_the_thread_and_its_json_text_is_the_answer(
    webhook: tuple[LocalServer, Switchable],
) -> None:
    server, _ = webhook
    answer = responders().answer("webhook", server.url + "/agent", REQUEST)
    assert answer == "Tuesday at 10 is free."
    [received] = server.received
    assert received.path == "/agent"
    assert received.headers["content-type"] == "application/json"
    body = received.json()
    assert body["agent_id"] == REQUEST.agent_id
    assert body["system_prompt"] == "You are Acme Dental's receptionist."
    assert body["thread"][1] == {
        "direction": "inbound",
        "body": "Yes please, Tuesday?",
        "at": "2026-11-26T12:00:00Z",
    }
    assert body["trimmed"] is False and body["omitted"] == 0


def test_a_plain_text_webhook_answer_is_taken_whole(
    webhook: tuple[LocalServer, Switchable],
) -> None:
    server, answer = webhook
    answer.reply = Reply(content_type="text/plain; charset=utf-8", body="Ja, gern 😊".encode())
    assert responders().answer("webhook", server.url, REQUEST) == "Ja, gern 😊"


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        (Reply(status=500, body=b"oops"), "http_error"),
        (Reply(status=302, body=b""), "http_error"),
        (Reply(body=b"{not json"), "unusable_answer"),
        (Reply(body=b'{"answer": "hi"}'), "unusable_answer"),
        (Reply(body=b'{"text": 42}'), "unusable_answer"),
        (Reply(body=b'["text"]'), "unusable_answer"),
        (Reply(content_type="image/png", body=b"\x89PNG"), "unusable_answer"),
        (Reply(content_type="text/plain", body=b"\xff\xfe\xfa"), "unusable_answer"),
        (Reply(content_type="text/plain", body=b"x" * 70_000), "unusable_answer"),
    ],
)
def test_a_webhook_that_fails_or_answers_garbage_is_a_failure_with_its_code(
    webhook: tuple[LocalServer, Switchable], reply: Reply, code: str
) -> None:
    server, answer = webhook
    answer.reply = reply
    assert failure(lambda: responders().answer("webhook", server.url, REQUEST)).code == code
    assert len(server.received) == 1  # asked once, never again


def test_a_slow_webhook_times_out(webhook: tuple[LocalServer, Switchable]) -> None:
    server, answer = webhook
    answer.reply = text_reply("too late", delay=1.5)
    found = failure(lambda: responders(timeout=0.5).answer("webhook", server.url, REQUEST))
    assert found.code == "timeout" and len(server.received) == 1


def test_a_webhook_nobody_listens_on_is_a_connection_failure() -> None:
    with socket.socket() as sock:  # a port just freed: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    found = failure(lambda: responders().answer("webhook", f"http://127.0.0.1:{port}", REQUEST))
    assert found.code == "connection_failed"


def test_the_openai_responder_sends_the_system_prompt_and_the_thread_as_turns(
    chat: tuple[LocalServer, Switchable],
) -> None:
    server, _ = chat
    answer = responders(server.url + "/v1").answer("openai", None, REQUEST)
    assert answer == "Tuesday at 10 is free."
    [received] = server.received
    assert received.path == "/v1/chat/completions"
    assert received.headers["authorization"] == "Bearer sk-test"
    body = received.json()
    assert body["model"] == "test-model"
    assert body["messages"] == [
        {"role": "system", "content": "You are Acme Dental's receptionist."},
        {"role": "assistant", "content": "20% off cleanings this month. Reply YES to book."},
        {"role": "user", "content": "Yes please, Tuesday?"},
    ]


def test_a_trimmed_thread_is_noted_in_the_system_message(
    chat: tuple[LocalServer, Switchable],
) -> None:
    server, _ = chat
    trimmed = msgspec.structs.replace(REQUEST, trimmed=True, omitted=998)
    responders(server.url + "/v1").answer("openai", None, trimmed)
    system = server.received[0].json()["messages"][0]["content"]
    assert system.startswith("You are Acme Dental's receptionist.\n\n")
    assert "1000 messages" in system and "newest 2" in system


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        (Reply(status=500, body=b'{"error": {"message": "boom"}}'), "http_error"),
        (Reply(status=401, body=b'{"error": {"message": "bad key"}}'), "http_error"),
        (Reply(body=b"<html>not json</html>", content_type="text/html"), "unusable_answer"),
        (Reply(body=b'{"choices": []}'), "unusable_answer"),
        (completion(None), "unusable_answer"),
    ],
)
def test_an_openai_endpoint_that_fails_or_answers_garbage_is_a_failure_asked_once(
    chat: tuple[LocalServer, Switchable], reply: Reply, code: str
) -> None:
    server, answer = chat
    answer.reply = reply
    found = failure(lambda: responders(server.url + "/v1").answer("openai", None, REQUEST))
    assert found.code == code, found.reason
    assert len(server.received) == 1  # the client's own retries are off


def test_a_slow_openai_endpoint_times_out(chat: tuple[LocalServer, Switchable]) -> None:
    server, answer = chat
    answer.reply = Reply(body=completion("late").body, delay=1.5)
    found = failure(
        lambda: responders(server.url + "/v1", timeout=0.5).answer("openai", None, REQUEST)
    )
    assert found.code == "timeout" and len(server.received) == 1


def test_an_agent_without_a_responder_is_not_asked() -> None:
    assert failure(lambda: responders().answer("none", None, REQUEST)).code == "not_configured"
