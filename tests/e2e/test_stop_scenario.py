"""The consent scenario the issue asks for, through Herald's own processes and the
simulator's signed inbound messages: a campaign to N phones, a tenth of them texting STOP
(in odd spellings) while it sends, one texting YES; then a second campaign to the same
phones. The simulator's own record must show nothing sent to a phone after its STOP, and
the YES sender must get the agent's answer (its webhook responder, a local server)."""

import time
from collections.abc import Callable
from datetime import datetime

import httpx

from harness.processes import herald_cli
from tests.e2e.conftest import Stack
from tests.integration.responder_servers import local_server, text_reply

PHONES = 100
MPS = 10
NUMBER = "+447446700001"
STOPS = [" stop", "Stop!", "STOP.", "unsubscribe", "  Cancel ", "end", "QUIT!!", "StopAll"]
STOPS += ["stop\t", "'STOP'"]
FIRST = "Spring offer, reply YES to book"
SECOND = "Summer offer"
ANSWER = "Lovely, we will call you to book a time."


def test_nothing_goes_to_a_phone_after_its_stop_and_a_yes_gets_the_agents_answer(
    stack: Stack, database_url: str, figure: Callable[[str], None]
) -> None:
    account = herald_cli(database_url, "accounts", "create", "consent scenario")
    herald_cli(database_url, "accounts", "quiet-hours", account, "--off")
    key = herald_cli(database_url, "keys", "create", "--account", account)
    agent = herald_cli(database_url, "agents", "create", "--account", account, "--name", "Desk")
    http = httpx.Client(
        base_url=stack.api_url, headers={"Authorization": f"Bearer {key}"}, timeout=60
    )
    number = {"phone_number": NUMBER, "agent_id": agent, "mps": MPS}
    assert http.post("/v1/numbers", json=number).status_code == 201
    with local_server(lambda _: text_reply(ANSWER)) as webhook:
        responder = {"kind": "webhook", "url": webhook.url}
        assert http.put(f"/v1/agents/{agent}/responder", json=responder).status_code == 200
        phones = [f"+4473861{n:05d}" for n in range(PHONES)]
        stoppers = phones[::10]  # a tenth of them
        yes_sayer = phones[5]
        dispatcher = stack.dispatcher()

        first = campaign(http, agent, phones, FIRST)
        wait_sent(stack, at_least=15)  # mid-campaign: some of the stoppers have had it, most not
        stopped_at: dict[str, datetime] = {}
        for phone, spelling in zip(stoppers, STOPS, strict=True):
            assert text_in(stack, phone, spelling)["status"] == 200
            stopped_at[phone] = datetime.now().astimezone()  # recorded by now: answered after
        assert text_in(stack, yes_sayer, "YES")["status"] == 200
        wait_status(http, first, "done", timeout=120)

        second = campaign(http, agent, phones, SECOND)
        wait_status(http, second, "done", timeout=120)
        answered = wait_for(lambda: [m for m in sent_to(stack, yes_sayer) if m["body"] == ANSWER])
        dispatcher.terminate()

    after_stop = [
        (phone, m["body"], m["date_created"])
        for phone in stoppers
        for m in sent_to(stack, phone)
        if datetime.fromisoformat(m["date_created"]) >= stopped_at[phone]
    ]
    second_view = http.get(f"/v1/sms/campaigns/{second}").json()
    suppressed = http.get(
        f"/v1/sms/campaigns/{second}/recipients", params={"status": "suppressed"}
    ).json()
    first_to_stoppers = sum(len(sent_to(stack, p, FIRST)) for p in stoppers)
    figure(
        f"consent scenario: {PHONES} phones, {len(stoppers)} STOPs mid-campaign (first campaign had reached"
        f" {first_to_stoppers} of them before), messages to a phone after its STOP:"
        f" {len(after_stop)}; second campaign: {second_view['delivered_count']} delivered,"
        f" {second_view['status_counts']['suppressed']} suppressed; the YES sender got the"
        f" agent's answer: {len(answered)}"
    )
    assert after_stop == []
    assert first_to_stoppers > 0  # mid-campaign: the first of them had had it
    assert sorted(r["phone"] for r in suppressed["recipients"]) == sorted(stoppers)
    assert all(sent_to(stack, p, SECOND) == [] for p in stoppers)
    assert len(answered) == 1
    thread = webhook.received[0].json()["thread"]
    assert {"direction": "inbound", "body": "YES"}.items() <= thread_turn(thread, "YES").items()


def campaign(http: httpx.Client, agent: str, phones: list[str], text: str) -> str:
    response = http.post(
        "/v1/sms/campaigns",
        json={
            "agent_id": agent,
            "from_number": NUMBER,
            "name": text,
            "message_template": text,
            "recipients": [{"phone": p, "variables": {}} for p in phones],
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["campaign_id"])


def text_in(stack: Stack, phone: str, body: str) -> dict:
    """The simulator texts `body` from `phone` to Herald's number, signed as Twilio would."""
    answer = httpx.post(
        f"{stack.sim_url}/_sim/inbound",
        json={
            "url": stack.api_url + "/webhooks/twilio/inbound",
            "from": phone,
            "to": NUMBER,
            "body": body,
        },
        timeout=60,
    )
    answer.raise_for_status()
    return dict(answer.json())


def sent_to(stack: Stack, phone: str, body: str | None = None) -> list[dict]:
    return [
        m
        for m in stack.sent()
        if m["to"] == phone and m["from"] == NUMBER and (body is None or m["body"] == body)
    ]


def wait_sent(stack: Stack, at_least: int) -> None:
    wait_for(lambda: len([m for m in stack.sent() if m["from"] == NUMBER]) >= at_least)


def wait_status(http: httpx.Client, campaign_id: str, status: str, timeout: float) -> None:
    wait_for(
        lambda: http.get(f"/v1/sms/campaigns/{campaign_id}").json()["status"] == status,
        timeout,
    )


def wait_for(condition, timeout: float = 60):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)
    return found


def thread_turn(thread: list[dict], body: str) -> dict:
    return next(turn for turn in thread if turn["body"] == body)
