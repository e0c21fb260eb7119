"""Dispatcher processes against `herald simulator`: killed with SIGKILL, run side by side."""

import multiprocessing
import random
import signal
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime

import httpx
import pytest

from harness.processes import herald_cli
from tests.e2e.conftest import Stack

RECIPIENTS = 5000
NUMBERS = 10
MPS = 50


def tenant(
    stack: Stack, database_url: str, numbers: int, mps: int, first: int
) -> tuple[httpx.Client, str, list[str]]:
    account = herald_cli(database_url, "accounts", "create", "kill test")
    # An explicit policy: what these tests send must not depend on the hour they run at.
    herald_cli(database_url, "accounts", "quiet-hours", account, "--off")
    key = herald_cli(database_url, "keys", "create", "--account", account)
    agent = herald_cli(database_url, "agents", "create", "--account", account, "--name", "a")
    http = httpx.Client(
        base_url=stack.api_url, headers={"Authorization": f"Bearer {key}"}, timeout=60
    )
    pool = [f"+44744650{first + n:04d}" for n in range(numbers)]
    for number in pool:
        assert (
            http.post(
                "/v1/numbers", json={"phone_number": number, "agent_id": agent, "mps": mps}
            ).status_code
            == 201
        )
    return http, agent, pool


def campaign(http: httpx.Client, agent: str, pool: list[str], phones: list[str]) -> str:
    response = http.post(
        "/v1/sms/campaigns",
        json={
            "agent_id": agent,
            "from_numbers": pool,
            "name": "kill",
            "message_template": "Hello {{n}}",
            "recipients": [{"phone": p, "variables": {"n": i}} for i, p in enumerate(phones)],
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["campaign_id"])


def duplicates_and_losses(stack: Stack, pool: list[str], phones: list[str]) -> tuple[int, int]:
    """Extra messages and recipients never texted, from the simulator's own record."""
    per_phone = Counter(m["to"] for m in stack.sent() if m["from"] in pool)
    duplicates = sum(n - 1 for n in per_phone.values() if n > 1)
    return duplicates, sum(1 for phone in phones if per_phone[phone] == 0)


def wait_done(http: httpx.Client, campaign_id: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = http.get(f"/v1/sms/campaigns/{campaign_id}").json()
        if body["status"] == "done" and body["pending_count"] == 0:
            return body
        time.sleep(0.5)
    raise AssertionError(f"campaign not done after {timeout} s: {body['status_counts']}")


def wait_delivered(http: httpx.Client, campaign_id: str, count: int, timeout: float) -> dict:
    """The campaign once `count` recipients are delivered, or as it is after `timeout`: it is
    done when nothing is pending, and the last `delivered` callbacks may still be on their way."""
    deadline = time.monotonic() + timeout
    while True:
        body = http.get(f"/v1/sms/campaigns/{campaign_id}").json()
        if body["delivered_count"] >= count or time.monotonic() > deadline:
            return body
        time.sleep(0.5)


def test_dispatcher_killed_20_times_sends_every_recipient_exactly_once(
    stack: Stack, database_url: str, figure: Callable[[str], None]
) -> None:
    http, agent, pool = tenant(stack, database_url, NUMBERS, MPS, first=0)
    phones = [f"+4471300{i:05d}" for i in range(RECIPIENTS)]
    campaign_id = campaign(http, agent, pool, phones)
    rng = random.Random(20)
    started = time.monotonic()
    for _ in range(20):
        process = stack.dispatcher()
        time.sleep(rng.uniform(1.5, 3.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
    submitted_before_recovery = len([m for m in stack.sent() if m["from"] in pool])
    final = stack.dispatcher()
    wait_done(http, campaign_id, timeout=240)
    done = wait_delivered(http, campaign_id, RECIPIENTS, timeout=60)
    elapsed = time.monotonic() - started
    duplicates, losses = duplicates_and_losses(stack, pool, phones)
    figure(
        f"kill test: {RECIPIENTS} recipients, dispatcher SIGKILLed 20 times"
        f" ({submitted_before_recovery} submitted before the last start); duplicates {duplicates},"
        f" losses {losses}, delivered {done['delivered_count']}, {elapsed:.0f} s in all"
    )
    assert duplicates == 0 and losses == 0
    assert done["delivered_count"] == RECIPIENTS
    final.terminate()
    final.wait(timeout=30)


def test_two_dispatchers_share_numbers_without_duplicates_or_going_over_mps(
    stack: Stack, database_url: str, figure: Callable[[str], None]
) -> None:
    http, agent, pool = tenant(stack, database_url, numbers=4, mps=10, first=100)
    phones = [f"+4471400{i:05d}" for i in range(400)]
    first, second = stack.dispatcher(), stack.dispatcher()
    campaign_id = campaign(http, agent, pool, phones)
    wait_done(http, campaign_id, timeout=120)
    sent = [m for m in stack.sent() if m["from"] in pool]
    per_phone = Counter(m["to"] for m in sent)
    peak = 0
    for number in pool:
        times = sorted(
            datetime.fromisoformat(m["date_created"]).timestamp()
            for m in sent
            if m["from"] == number
        )
        start = 0
        for end, t in enumerate(times):
            while t - times[start] >= 1.0:
                start += 1
            peak = max(peak, end - start + 1)
    figure(
        f"two dispatchers, 4 numbers at mps 10: {len(sent)} submitted for {len(phones)} recipients; most in any 1 s on a number: {peak}"
    )
    assert len(sent) == len(phones) == len(per_phone)
    assert peak <= 10
    for process in (first, second):
        process.terminate()
        process.wait(timeout=30)


def _busy() -> None:
    while True:
        pass


@pytest.mark.parametrize(
    ("latency", "busy", "dispatchers", "count"),
    [(0.0, 3, 1, 2000), (1.5, 0, 2, 1000)],
    ids=["cpu-starved", "slow-twilio-two-dispatchers"],
)
def test_every_recipient_gets_exactly_one_message_under_load(
    stack: Stack,
    database_url: str,
    figure: Callable[[str], None],
    latency: float,
    busy: int,
    dispatchers: int,
    count: int,
) -> None:
    """No fault injected: many recipients over many numbers, with the dispatchers starved
    of CPU (busy processes on every core) or Twilio answering slowly. Counted from the
    simulator's own record."""
    first = 200 if busy else 300
    http, agent, pool = tenant(stack, database_url, numbers=40, mps=10, first=first)
    phones = [f"+44715{first:03d}{i:04d}" for i in range(count)]
    stack.simulate(latency=latency)
    hogs = [multiprocessing.Process(target=_busy, daemon=True) for _ in range(busy)]
    for hog in hogs:
        hog.start()
    processes = [stack.dispatcher() for _ in range(dispatchers)]
    try:
        started = time.monotonic()
        campaign_id = campaign(http, agent, pool, phones)
        done = wait_done(http, campaign_id, timeout=240)
        elapsed = time.monotonic() - started
        time.sleep(2)  # a late second submission would show by now
    finally:
        for hog in hogs:
            hog.terminate()
        stack.simulate(latency=0.0)
    duplicates, losses = duplicates_and_losses(stack, pool, phones)
    figure(
        f"exactly once under load ({busy} busy processes, Twilio latency {latency} s,"
        f" {dispatchers} dispatchers): {count} recipients over 40 numbers, duplicates {duplicates},"
        f" losses {losses}, {elapsed:.0f} s"
    )
    assert duplicates == 0 and losses == 0
    assert done["total_count"] == count
    for process in processes:
        process.terminate()
        process.wait(timeout=30)
