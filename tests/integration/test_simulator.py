"""The Twilio simulator, driven through the real twilio SDK, with a small HTTP server that
collects the status callbacks and incoming messages it posts."""

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from interfaces.server import ServerHandle, start_simulator_in_thread
from simulator import SimulatorConfig, with_env_accounts
from tests.conftest import now

SID = "AC" + "0" * 32
TOKEN = "simulator-auth-token"
OTHER_SID = "AC" + "1" * 32
OTHER_TOKEN = "other-token"
SENDER = "+447000000001"


@dataclass
class Received:
    path: str
    params: dict[str, str]
    signature: str


class Receiver:
    """A tiny HTTP server standing in for Herald's webhooks: it records every POST."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.status = 200
        self.reply = ""
        self._arrived = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        serve = threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True)
        serve.start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                params = dict(parse_qsl(body, keep_blank_values=True))
                with receiver._arrived:
                    signature = self.headers.get("X-Twilio-Signature", "")
                    receiver.received.append(Received(self.path, params, signature))
                    receiver._arrived.notify_all()
                reply = receiver.reply.encode()
                self.send_response(receiver.status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def wait_for(self, count: int, timeout: float = 3.0) -> list[Received]:
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)

    def statuses(self, count: int) -> list[str]:
        return [r.params["MessageStatus"] for r in self.wait_for(count)]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def simulator() -> Iterator[ServerHandle]:
    config = SimulatorConfig(
        accounts={SID: TOKEN, OTHER_SID: OTHER_TOKEN}, sent_delay=0.01, final_delay=0.01
    )
    with start_simulator_in_thread(config) as handle:
        yield handle


@pytest.fixture
def sim(simulator: ServerHandle) -> Iterator[ServerHandle]:
    """The shared simulator, reset after each test."""
    yield simulator
    httpx.post(f"{simulator.url}/_sim/reset").raise_for_status()


@pytest.fixture
def client(sim: ServerHandle) -> Client:
    twilio = Client(SID, TOKEN)
    twilio.api.base_url = sim.url
    return twilio


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


def configure(sim: ServerHandle, **options: Any) -> dict[str, Any]:
    response = httpx.post(f"{sim.url}/_sim/config", json=options)
    response.raise_for_status()
    return dict(response.json())


def recorded(sim: ServerHandle) -> list[dict[str, Any]]:
    return list(httpx.get(f"{sim.url}/_sim/messages").json()["messages"])


def recorded_once_answered(sim: ServerHandle, callbacks: int) -> list[dict[str, Any]]:
    """The recorded messages, once `callbacks` callbacks in all have had their answer."""
    deadline = time.monotonic() + 3
    messages = recorded(sim)
    while sum(len(m["callbacks"]) for m in messages) < callbacks and time.monotonic() < deadline:
        time.sleep(0.01)
        messages = recorded(sim)
    return messages


def send(client: Client, to: str = "+447111000001", **options: Any) -> Any:
    return client.messages.create(to=to, from_=SENDER, body="Hello from Herald", **options)


def final_status(client: Client, sid: str, timeout: float = 3.0) -> Any:
    deadline = time.monotonic() + timeout
    message = client.messages(sid).fetch()
    while message.status in ("queued", "sent") and time.monotonic() < deadline:
        time.sleep(0.01)
        message = client.messages(sid).fetch()
    return message


def twilio_error(call: Any) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as caught:
        call()
    return caught.value


# creating messages


def test_create_returns_a_queued_message_resource_like_twilio(client: Client) -> None:
    message = send(client)
    assert re.fullmatch(r"SM[0-9a-f]{32}", message.sid)
    assert (message.account_sid, message.to, message.from_) == (SID, "+447111000001", SENDER)
    assert (message.status, message.num_segments, message.direction) == (
        "queued",
        "1",
        "outbound-api",
    )
    assert message.date_sent is None
    assert message.uri == f"/2010-04-01/Accounts/{SID}/Messages/{message.sid}.json"


def test_the_resource_json_has_twilio_field_formats(sim: ServerHandle) -> None:
    response = httpx.post(
        f"{sim.url}/2010-04-01/Accounts/{SID}/Messages.json",
        data={"To": "+447111000001", "From": SENDER, "Body": "✓" * 71},  # UCS-2: 2 segments
        auth=(SID, TOKEN),
    )
    assert response.status_code == 201
    body = response.json()
    assert body["num_segments"] == "2" and body["num_media"] == "0"
    assert re.fullmatch(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000", body["date_created"])
    assert body["date_updated"] == body["date_created"] and body["date_sent"] is None
    assert body["api_version"] == "2010-04-01" and body["error_code"] is None
    assert body["subresource_uris"]["media"].endswith(f"/Messages/{body['sid']}/Media.json")


def test_wrong_credentials_are_refused_with_401_and_code_20003(sim: ServerHandle) -> None:
    for sid, token in [(SID, "wrong"), (OTHER_SID, TOKEN)]:
        intruder = Client(sid, token)
        intruder.api.base_url = sim.url
        error = twilio_error(lambda c=intruder: send(c))
        assert (error.status, error.code) == (401, 20003)
    raw = httpx.get(f"{sim.url}/2010-04-01/Accounts/{SID}/Messages.json")
    assert raw.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }


def test_missing_or_invalid_fields_get_twilio_error_codes(client: Client) -> None:
    missing_to = twilio_error(lambda: client.messages.create(to="", from_=SENDER, body="Hi"))
    missing_body = twilio_error(lambda: client.messages.create(to="+447111000001", from_=SENDER))
    not_e164 = twilio_error(lambda: send(client, to="07111000001"))
    assert [(e.status, e.code) for e in (missing_to, missing_body, not_e164)] == [
        (400, 21604),
        (400, 21602),
        (400, 21211),
    ]


def test_numbers_in_reject_to_get_their_error_code(sim: ServerHandle, client: Client) -> None:
    configure(sim, reject_to={"+447111000009": 21610})
    error = twilio_error(lambda: send(client, to="+447111000009"))
    assert (error.status, error.code) == (400, 21610)
    assert "unsubscribed" in error.msg
    assert recorded(sim) == []


# fetching and listing


def test_fetch_returns_the_message_and_404_for_an_unknown_or_foreign_sid(
    sim: ServerHandle, client: Client
) -> None:
    message = send(client)
    assert client.messages(message.sid).fetch().body == "Hello from Herald"
    unknown = twilio_error(lambda: client.messages("SM" + "f" * 32).fetch())
    assert (unknown.status, unknown.code) == (404, 20404)
    other = Client(OTHER_SID, OTHER_TOKEN)
    other.api.base_url = sim.url
    assert twilio_error(lambda: other.messages(message.sid).fetch()).status == 404


def test_list_filters_by_to_and_from(client: Client) -> None:
    send(client, to="+447111000001")
    send(client, to="+447111000002")
    client.messages.create(to="+447111000001", from_="+447000000002", body="other sender")
    assert len(client.messages.list(to="+447111000001")) == 2
    assert [m.body for m in client.messages.list(to="+447111000001", from_=SENDER)] == [
        "Hello from Herald"
    ]
    assert client.messages.list(to="+447999999999") == []


def test_list_filters_by_date_sent(sim: ServerHandle, client: Client) -> None:
    send(client)
    moment = now()
    assert len(client.messages.list(date_sent_after=moment - timedelta(minutes=1))) == 1
    assert client.messages.list(date_sent_after=moment + timedelta(minutes=1)) == []
    assert client.messages.list(date_sent_before=moment - timedelta(minutes=1)) == []
    assert len(client.messages.list(date_sent=moment)) == 1
    assert client.messages.list(date_sent=moment + timedelta(days=1)) == []
    by_day = httpx.get(  # the "DateSent>=YYYY-MM-DD" form of Twilio's docs
        f"{sim.url}/2010-04-01/Accounts/{SID}/Messages.json",
        params={"DateSent>": moment.date().isoformat()},
        auth=(SID, TOKEN),
    )
    assert len(by_day.json()["messages"]) == 1


def test_the_sdk_follows_pages_newest_first(sim: ServerHandle, client: Client) -> None:
    bodies = [f"message {n}" for n in range(7)]
    for body in bodies:
        client.messages.create(to="+447111000001", from_=SENDER, body=body)
    assert [m.body for m in client.messages.list(page_size=3)] == bodies[::-1]
    assert [m.body for m in client.messages.stream(page_size=2, limit=5)] == bodies[:1:-1]
    page = client.messages.page(page_size=3).next_page()
    assert page is not None
    assert [m.body for m in page] == bodies[3:0:-1]
    previous = page.previous_page()
    assert previous is not None
    assert [m.body for m in previous] == bodies[:3:-1]
    raw = httpx.get(
        f"{sim.url}/2010-04-01/Accounts/{SID}/Messages.json",
        params={"To": "+447111000001", "PageSize": 3},
        auth=(SID, TOKEN),
    ).json()
    assert (raw["page"], raw["page_size"], raw["start"], raw["end"]) == (0, 3, 0, 2)
    assert raw["previous_page_uri"] is None
    assert raw["first_page_uri"].endswith("Messages.json?To=%2B447111000001&PageSize=3&Page=0")
    assert "Page=1&PageToken=PA" in raw["next_page_uri"]


# status callbacks


def test_status_callbacks_are_signed_like_twilio(
    sim: ServerHandle, client: Client, receiver: Receiver
) -> None:
    callback = f"{receiver.url}/webhooks/status?tenant=7"
    message = send(client, status_callback=callback)
    received = receiver.wait_for(2)
    assert [r.params["MessageStatus"] for r in received] == ["sent", "delivered"]
    validator = RequestValidator(TOKEN)
    for request in received:
        assert receiver.url + request.path == callback
        assert validator.validate(callback, request.params, request.signature)
    assert received[0].params == {
        "MessageSid": message.sid,
        "SmsSid": message.sid,
        "AccountSid": SID,
        "From": SENDER,
        "To": "+447111000001",
        "MessageStatus": "sent",
        "SmsStatus": "sent",
        "ApiVersion": "2010-04-01",
    }
    fetched = final_status(client, message.sid)
    assert fetched.status == "delivered" and fetched.date_sent is not None
    assert recorded_once_answered(sim, 2)[0]["callbacks"] == [
        {"status": "sent", "http_status": 200},
        {"status": "delivered", "http_status": 200},
    ]


def test_outcome_weights_can_fail_every_message_with_an_error_code(
    sim: ServerHandle, client: Client, receiver: Receiver
) -> None:
    configure(sim, outcome_weights={"failed": 1}, failed_error_code=30008)
    message = send(client, status_callback=receiver.url)
    final = receiver.wait_for(2)[1].params
    assert (final["MessageStatus"], final["ErrorCode"]) == ("failed", "30008")
    fetched = final_status(client, message.sid)
    assert (fetched.status, fetched.error_code) == ("failed", 30008)


def test_duplicate_rate_one_sends_every_callback_twice(
    sim: ServerHandle, client: Client, receiver: Receiver
) -> None:
    configure(sim, duplicate_rate=1.0)
    send(client, status_callback=receiver.url)
    assert receiver.statuses(4) == ["sent", "sent", "delivered", "delivered"]


def test_reorder_sends_the_final_status_first_and_the_resource_stays_final(
    sim: ServerHandle, client: Client, receiver: Receiver
) -> None:
    configure(sim, reorder=True, outcome_weights={"undelivered": 1})
    message = send(client, status_callback=receiver.url)
    assert receiver.statuses(2) == ["undelivered", "sent"]
    assert receiver.received[0].params["ErrorCode"] == "30003"
    assert client.messages(message.sid).fetch().status == "undelivered"


def test_disabled_callbacks_still_move_the_message_to_its_final_status(
    sim: ServerHandle, client: Client, receiver: Receiver
) -> None:
    configure(sim, callbacks_enabled=False)
    message = send(client, status_callback=receiver.url)
    assert final_status(client, message.sid).status == "delivered"
    assert receiver.received == [] and recorded(sim)[0]["callbacks"] == []


def test_receiver_errors_and_dead_receivers_are_recorded_not_fatal(
    sim: ServerHandle, client: Client, receiver: Receiver
) -> None:
    receiver.status = 500
    send(client, status_callback=receiver.url)
    dead = Receiver()
    dead.close()
    send(client, status_callback=dead.url)
    answered, unreachable = recorded_once_answered(sim, 4)
    assert [c["http_status"] for c in answered["callbacks"]] == [500, 500]
    assert [c["http_status"] for c in unreachable["callbacks"]] == [None, None]
    assert send(client).status == "queued"


# faults


def test_fail_next_answers_429_then_the_next_create_succeeds(
    sim: ServerHandle, client: Client
) -> None:
    configure(sim, fail_next=[429])
    error = twilio_error(lambda: send(client))
    assert (error.status, error.code) == (429, 20429)
    assert recorded(sim) == []
    assert send(client).status == "queued"
    assert configure(sim)["fail_next"] == []


def test_fail_to_refuses_only_the_creates_to_that_phone(sim: ServerHandle, client: Client) -> None:
    configure(sim, fail_to={"+447111000007": [429, 503]})
    assert send(client, to="+447111000008").status == "queued"  # another phone: sent
    first = twilio_error(lambda: send(client, to="+447111000007"))
    second = twilio_error(lambda: send(client, to="+447111000007"))
    assert [first.status, second.status] == [429, 503]
    assert send(client, to="+447111000007").status == "queued"
    assert [m["to"] for m in recorded(sim)] == ["+447111000008", "+447111000007"]
    assert configure(sim)["fail_to"] == {"+447111000007": []}


def test_a_500_with_create_before_fail_still_records_the_message(
    sim: ServerHandle, client: Client
) -> None:
    configure(sim, fail_next=[500], create_before_fail=True)
    error = twilio_error(lambda: send(client, to="+447111000005"))
    assert (error.status, error.code) == (500, 20500)
    [message] = recorded(sim)
    assert message["to"] == "+447111000005"
    assert [m.sid for m in client.messages.list(to="+447111000005")] == [message["sid"]]


def test_error_rate_answers_creates_with_the_error_status(
    sim: ServerHandle, client: Client
) -> None:
    configure(sim, error_rate=1.0, error_status=503)
    assert twilio_error(lambda: send(client)).status == 503
    assert recorded(sim) == []


def test_latency_delays_the_answer_to_a_create(sim: ServerHandle, client: Client) -> None:
    configure(sim, latency=0.2)
    started = time.monotonic()
    send(client)
    assert time.monotonic() - started >= 0.2


# inbound messages, control API


def test_inbound_posts_a_signed_incoming_sms(sim: ServerHandle, receiver: Receiver) -> None:
    receiver.reply = "<Response/>"
    url = f"{receiver.url}/webhooks/sms"
    answer = httpx.post(
        f"{sim.url}/_sim/inbound",
        json={"url": url, "from": "+447111000001", "to": SENDER, "body": "STOP"},
    )
    assert answer.json() == {"status": 200, "body": "<Response/>"}
    [request] = receiver.received
    assert RequestValidator(TOKEN).validate(url, request.params, request.signature)
    assert re.fullmatch(r"SM[0-9a-f]{32}", request.params["MessageSid"])
    assert {k: request.params[k] for k in ("AccountSid", "From", "To", "Body", "NumSegments")} == {
        "AccountSid": SID,
        "From": "+447111000001",
        "To": SENDER,
        "Body": "STOP",
        "NumSegments": "1",
    }


def test_reset_forgets_messages_and_restores_the_config(sim: ServerHandle, client: Client) -> None:
    initial = httpx.get(f"{sim.url}/_sim/config").json()
    configure(sim, reorder=True, latency=0.01)
    send(client)
    httpx.post(f"{sim.url}/_sim/reset").raise_for_status()
    assert recorded(sim) == []
    assert httpx.get(f"{sim.url}/_sim/config").json() == initial
    assert httpx.get(f"{sim.url}/_sim/health").status_code == 200


def test_the_control_api_refuses_unknown_options_and_bad_values(sim: ServerHandle) -> None:
    refused: list[dict[str, Any]] = [{"accounts": {}}, {"duplicate_rate": 2}, {"fail_next": [200]}]
    refused += [{"fail_to": {"+447111000007": [201]}}, {"fail_to": ["+447111000007"]}]
    for changes in refused:
        assert httpx.post(f"{sim.url}/_sim/config", json=changes).status_code == 400


def test_recorded_messages_show_what_was_created_in_order(
    sim: ServerHandle, client: Client
) -> None:
    first, second = send(client, to="+447111000001"), send(client, to="+447111000002")
    messages = recorded(sim)
    assert [m["sid"] for m in messages] == [first.sid, second.sid]
    assert datetime.fromisoformat(messages[0]["date_created"]).microsecond is not None
    assert messages[0]["num_segments"] == 1 and messages[0]["status_callback"] is None


def test_the_environment_names_the_account_run_simulator_serves() -> None:
    config = with_env_accounts(
        SimulatorConfig(), {"TWILIO_ACCOUNT_SID": OTHER_SID, "TWILIO_AUTH_TOKEN": "secret"}
    )
    assert config.accounts == {OTHER_SID: "secret"}
    assert with_env_accounts(SimulatorConfig(), {}).accounts == {SID: TOKEN}
