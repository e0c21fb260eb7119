"""The submitter: starts each planned submission at its time, when its number's sliding
window (domain.pacing) allows it, on one asyncio loop.

A scheduler thread keeps the planned submissions in a heap by due time; each one it lets
go is submitted on the loop (the SDK's aiohttp client costs a third of the CPU of its
requests client), at most `workers` at a time. A submission whose number's lease or the
recipient's quiet hours come too close (domain.dispatching) is kept back, both when it is
due and again just before its request; Twilio never sees it.
"""

import asyncio
import heapq
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

import structlog

from application.dispatch_queue import DispatchQueue
from application.planning import Planned
from application.ports import SmsGateway, SubmitOutcome
from domain import ids
from domain.dispatching import KeptBack, keep_back
from domain.message import Message
from domain.pacing import SlidingWindow

log = structlog.get_logger()

Answered = Callable[[Planned, SubmitOutcome], None]


@dataclass(eq=False)
class Scheduled:
    """A planned submission on the monotonic clock."""

    planned: Planned
    go_before: float = math.inf  # when the recipient's quiet hours begin (monotonic)
    window_entry: list[float] = field(default_factory=list)


def status_callback_url(public_url: str, message_id: UUID) -> str:
    public = ids.public_id(ids.MESSAGE, message_id)
    return f"{public_url}/webhooks/twilio/status/{public}"


class Submitter:
    def __init__(
        self,
        gateway: SmsGateway,
        work: DispatchQueue,
        public_url: str,
        workers: int,
        answered: Answered,
        stop: threading.Event,
    ) -> None:
        self.gateway = gateway
        self.work = work
        self.public_url = public_url
        self.answered = answered  # every planned submission's outcome goes here, once
        self._stop = stop
        self._heap: list[tuple[float, int, Scheduled]] = []
        self._changed = threading.Condition()
        self._sequence = 0
        self._windows: dict[str, SlidingWindow] = {}
        self.lease_ends: dict[str, float] = {}  # monotonic time each number's lease ends
        self.backlog: Counter[str] = Counter()  # planned submissions per number, not yet started
        self._loop = asyncio.new_event_loop()
        self._slots = asyncio.Semaphore(workers)
        self._threads: list[threading.Thread] = []
        self._in_flight = 0
        self._in_flight_lock = threading.Lock()

    def start(self) -> None:
        for target, name in ((self._loop.run_forever, "submit"), (self._run, "schedule")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def busy(self) -> bool:
        """Whether anything planned is not yet answered."""
        return bool(self._heap or self._in_flight)

    def stop(self) -> None:
        """Stop (once `stop` is set): close the gateway's client, end both threads."""
        with self._changed:
            self._changed.notify_all()
        asyncio.run_coroutine_threadsafe(self.gateway.aclose(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        for thread in self._threads:
            thread.join(timeout=10)

    def leased(self, lease_ends: dict[str, float]) -> None:
        """Numbers leased, each until a monotonic time."""
        self.lease_ends.update(lease_ends)

    def schedule(self, planned: Sequence[Planned], now: datetime, start: float) -> None:
        """Submit each at its time: `now` on the plan's clock is `start` on the monotonic one."""
        with self._changed:
            for item in planned:
                self.backlog[item.lane] += 1
                self._sequence += 1
                due_at = start + (item.at - now).total_seconds()
                scheduled = Scheduled(item)
                if item.quiet_from is not None:
                    scheduled.go_before = start + (item.quiet_from - now).total_seconds()
                self._heap.append((due_at, self._sequence, scheduled))
            self._heap.sort()
            self._changed.notify_all()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._changed:
                if not self._heap:
                    self._changed.wait(0.05)
                    continue
                due_at, _, item = self._heap[0]
                lane = item.planned.lane
                segments = item.planned.message.segments
                now = time.monotonic()
                kept_back = self._keep_back(item, now)
                if kept_back is not None:
                    heapq.heappop(self._heap)
                    self.backlog[lane] -= 1
                    self._not_submitted(item, kept_back)
                    continue
                window = self._windows.setdefault(lane, SlidingWindow())
                not_before = max(due_at, window.earliest(now, segments, item.planned.mps))
                if not_before > now:
                    self._changed.wait(min(not_before - now, 0.05))
                    continue
                heapq.heappop(self._heap)
                self.backlog[lane] -= 1
                item.window_entry = window.sending(segments)
                with self._in_flight_lock:
                    self._in_flight += 1
            asyncio.run_coroutine_threadsafe(self._submit(item), self._loop)

    def _keep_back(self, item: Scheduled, now: float) -> SubmitOutcome | None:
        """Why a planned submission must not start now, if it must not."""
        lane = item.planned.lane
        reason = keep_back(now, self.lease_ends.get(lane, 0.0), item.go_before)
        if reason is None:
            return None
        if reason is KeptBack.LEASE_LOST:
            # We stalled: another dispatcher may own the number (and this attempt) by now.
            log.warning("lease_lost", number=lane)
        return SubmitOutcome("not_submitted", error_message=reason.value)

    def _not_submitted(self, item: Scheduled, outcome: SubmitOutcome) -> None:
        """Record that it was kept back (planned again later); release its holds off this
        thread."""
        self.answered(item.planned, outcome)
        threading.Thread(target=self._let_go, args=(item.planned.message,)).start()

    def _let_go(self, message: Message) -> None:
        """Its campaign's hold and its account's (see application/planning.py)."""
        if message.campaign_id is not None:
            self.work.let_go(message.campaign_id)
        self.work.let_go_account(message.account_id)

    async def _submit(self, item: Scheduled) -> None:
        message = item.planned.message
        try:
            async with self._slots:
                # Waiting for a slot takes time too: look again just before the request.
                kept_back = self._keep_back(item, time.monotonic())
                outcome = kept_back or await self.gateway.submit_async(
                    message.account_id,
                    message.to,
                    message.from_number,
                    message.body,
                    status_callback_url(self.public_url, message.id),
                )
        except Exception as error:  # an adapter bug must not lose the attempt
            log.exception("submit_failed", message_id=str(message.id))
            outcome = SubmitOutcome("uncertain", error_message=str(error))
        with self._changed:
            SlidingWindow.answered(item.window_entry, time.monotonic())
            self._changed.notify_all()
        self.answered(item.planned, outcome)
        # The guard's database call must not block the loop.
        await asyncio.to_thread(self._let_go, message)
        with self._in_flight_lock:
            self._in_flight -= 1
