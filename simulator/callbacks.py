"""Message lifecycles and signed webhooks: `sent`, then a final status, posted like Twilio.

Each created message gets a plan of steps (status, delay). A step's timer
(`loop.call_later`) updates the message; when the message has a StatusCallback the step
then joins a queue that `MAX_IN_FLIGHT` workers drain, each through its own keep-alive
`httpx.AsyncClient` of one connection (one shared pool of 64 is 4x slower: httpcore's
pool costs more per request the more requests wait in it). A step is timed only once
the one before has been posted, so a message's callbacks keep their planned order.
Nothing here blocks request handling, and a receiver that fails or is down is logged and
recorded, never retried.
"""

import asyncio
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

import httpx
import structlog
from twilio.request_validator import RequestValidator

from simulator.config import OUTCOMES, SimulatorConfig
from simulator.resources import API_VERSION
from simulator.store import CallbackRecord, Message

log = structlog.get_logger()

MAX_IN_FLIGHT = 64
CALLBACK_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class Step:
    delay: float  # seconds after the previous step
    status: str
    error_code: int | None = None


@dataclass(frozen=True, slots=True)
class Job:
    message: Message
    steps: tuple[Step, ...]  # steps[0] is the one due
    notify: bool  # post the status callback
    generation: int  # jobs from before a reset are dropped


def plan(config: SimulatorConfig, rng: random.Random) -> tuple[Step, ...]:
    """`sent` and a weighted final status (final first with `reorder`), some repeated."""
    weights = [config.outcome_weights.get(outcome, 0.0) for outcome in OUTCOMES]
    outcome = rng.choices(OUTCOMES, weights)[0]
    codes = {"undelivered": config.undelivered_error_code, "failed": config.failed_error_code}
    ordered = [Step(0, "sent"), Step(0, outcome, codes.get(outcome))]
    if config.reorder:
        ordered.reverse()
    steps: list[Step] = []
    for step, delay in zip(ordered, (config.sent_delay, config.final_delay), strict=True):
        steps.append(replace(step, delay=delay))
        if rng.random() < config.duplicate_rate:
            steps.append(step)  # the repeat follows at once
    return tuple(steps)


def status_params(message: Message, step: Step) -> dict[str, str]:
    params = {
        "MessageSid": message.sid,
        "SmsSid": message.sid,
        "AccountSid": message.account_sid,
        "From": message.from_ or "",
        "To": message.to,
        "MessageStatus": step.status,
        "SmsStatus": step.status,
        "ApiVersion": API_VERSION,
    }
    if step.error_code is not None:
        params["ErrorCode"] = str(step.error_code)
    return params


class Webhooks:
    """Posts signed form requests, and runs the lifecycles of created messages."""

    def __init__(self, accounts: Mapping[str, str], now: Callable[[], datetime]) -> None:
        self.now = now  # the simulator's clock
        self._validators = {sid: RequestValidator(token) for sid, token in accounts.items()}
        self._queue: asyncio.Queue[Job] = asyncio.Queue()
        self._clients: list[httpx.AsyncClient] = []
        self._workers: list[asyncio.Task[None]] = []
        self.generation = 0

    async def start(self) -> None:
        limits = httpx.Limits(max_connections=1)
        tls = httpx.create_ssl_context()  # loading the CA bundle once, not 64 times, saves ~1 s
        self._clients = [
            httpx.AsyncClient(limits=limits, timeout=CALLBACK_TIMEOUT, verify=tls)
            for _ in range(MAX_IN_FLIGHT)
        ]
        self._workers = [asyncio.create_task(self._work(client)) for client in self._clients]

    async def stop(self) -> None:
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        await asyncio.gather(*(client.aclose() for client in self._clients))

    def forget_all(self) -> None:
        """Drop the steps still due for the messages created so far."""
        self.generation += 1

    async def post(
        self,
        url: str,
        params: dict[str, str],
        account_sid: str,
        client: httpx.AsyncClient | None = None,
    ) -> httpx.Response:
        """POST `params` form-encoded to `url`, signed with the account's auth token."""
        signature = self._validators[account_sid].compute_signature(url, params)
        headers = {"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"}
        return await (client or self._clients[0]).post(url, data=params, headers=headers)

    def run(self, message: Message, steps: tuple[Step, ...], notify: bool) -> None:
        """Start a message's lifecycle (call from the event loop's thread)."""
        self._schedule(Job(message, steps, notify, self.generation))

    def _schedule(self, job: Job) -> None:
        if job.steps[0].delay > 0:
            asyncio.get_running_loop().call_later(job.steps[0].delay, self._due, job)
        else:
            self._due(job)

    def _due(self, job: Job) -> None:
        if job.generation != self.generation:
            return
        step = job.steps[0]
        job.message.advance(step.status, step.error_code, self.now())
        if job.notify:
            self._queue.put_nowait(job)
        else:
            self._next(job)

    def _next(self, job: Job) -> None:
        if len(job.steps) > 1 and job.generation == self.generation:
            self._schedule(replace(job, steps=job.steps[1:]))

    async def _work(self, client: httpx.AsyncClient) -> None:
        while True:
            job = await self._queue.get()
            if job.generation == self.generation:
                status = await self._notify(job.message, job.steps[0], client)
                job.message.callbacks.append(CallbackRecord(job.steps[0].status, status))
                self._next(job)

    async def _notify(self, message: Message, step: Step, client: httpx.AsyncClient) -> int | None:
        url = message.status_callback or ""
        params = status_params(message, step)
        try:
            try:
                response = await self.post(url, params, message.account_sid, client)
            except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError):
                # The receiver closed a kept-alive connection (its idle timeout) just as this
                # request went out on it: sent again on a fresh one. Twilio connects anew.
                response = await self.post(url, params, message.account_sid, client)
        except Exception as error:  # a bad receiver must never stop the workers
            log.warning("status_callback_unanswered", url=url, error=repr(error))
            return None
        if response.status_code >= 400:
            log.warning("status_callback_refused", url=url, status=response.status_code)
        return response.status_code
