"""The dispatcher: submits due messages to Twilio, paced per sender number, exactly once.

Every `plan()` leases the sender numbers no other dispatcher holds and plans up to
`horizon` seconds of submissions on each: single sends and retries first, then campaign
recipients, spaced `segments / mps` apart. The attempts are recorded (events) before any
call to Twilio; a scheduler thread then starts each submission at its time, when the
number's sliding window (domain.pacing) allows it, on an asyncio loop. Twilio's answers
are recorded in batches. An attempt whose answer was never recorded (the process died)
is looked up in Twilio's list before it may be submitted again.
"""

import asyncio
import contextlib
import heapq
import logging
import math
import queue
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from uuid import UUID, uuid4

from application.campaigns import Campaigns
from application.dispatch_queue import DispatchQueue
from application.ports import Clock, ReadModels, SmsGateway, SubmitOutcome
from application.store import EventStore, IntegrityError
from domain import ids
from domain.consent import Consent, consent_id
from domain.errors import InvalidTransition
from domain.message import AttemptState, Message, campaign_message_id
from domain.pacing import SlidingWindow
from domain.phone import time_zones
from domain.quiet_hours import DEFAULT_QUIET_HOURS, QuietHours, held_until
from domain.segments import count_segments
from domain.sending import OPT_OUT_ERROR, retry_delay
from domain.template import compile_template

log = logging.getLogger("herald.dispatch")


@dataclass(frozen=True)
class DispatchConfig:
    public_url: str
    name: str = field(default_factory=lambda: f"dispatcher-{uuid4().hex[:8]}")
    horizon: float = 1.0  # seconds of submissions planned ahead per number
    lease: float = 5.0  # seconds a dispatcher keeps its numbers without renewing
    margin: float = 0.005  # planned spacing slack: plans never outrun what the window allows
    workers: int = 32  # concurrent calls to Twilio
    attempt_timeout: float = 15.0  # an attempt unanswered this long is reconciled
    uncertain_delay: float = 2.0  # wait before looking up an uncertain submission
    max_attempts: int = 8
    auto_pause_window: int = 20
    auto_pause_failures: int = 15


# Kept back, never submitted: planned again once due (and outside quiet hours).
QUIET_HOURS_BEGAN = SubmitOutcome("not_submitted", error_message="quiet hours began first")
LEASE_LOST = SubmitOutcome("not_submitted", error_message="its number's lease ran out first")
# A submission starts at least this long before the number's lease ends: past the lease,
# another dispatcher may take the number over and reconcile this attempt.
LEASE_SAFETY = 0.5
# A submission starts at least this long before quiet hours begin: the request must reach
# Twilio before then (it takes ~0.1 s here, more on a busy machine).
QUIET_HOURS_SAFETY = 1.0


@dataclass
class Planned:
    message: Message
    lane: str
    mps: int
    quiet_from: datetime | None  # it must go before the account's quiet hours begin
    window_entry: list[float] = field(default_factory=list)
    go_before: float = math.inf  # the same on the monotonic clock


class Policies:
    """Quiet-hours policies of the accounts met in one plan, each read once."""

    def __init__(self, read_models: ReadModels) -> None:
        self.read_models = read_models
        self._known: dict[UUID, QuietHours | None] = {}

    def of(self, account_id: UUID) -> QuietHours | None:
        if account_id not in self._known:
            found = self.read_models.quiet_hours([account_id])
            self._known[account_id] = found.get(account_id, DEFAULT_QUIET_HOURS)
        return self._known[account_id]


@lru_cache(maxsize=200_000)
def zones_of(phone: str) -> tuple[str, ...]:
    return time_zones(phone)


class Dispatcher:
    def __init__(
        self,
        store: EventStore,
        read_models: ReadModels,
        work: DispatchQueue,
        gateway: SmsGateway,
        campaigns: Campaigns,
        clock: Clock,
        config: DispatchConfig,
    ) -> None:
        self.store = store
        self.read_models = read_models
        self.work = work
        self.gateway = gateway
        self.campaigns = campaigns
        self.clock = clock
        self.config = config
        self._heap: list[tuple[float, int, Planned]] = []
        self._heap_changed = threading.Condition()
        self._sequence = 0
        self._windows: dict[str, SlidingWindow] = {}
        self._lease_ends: dict[str, float] = {}  # monotonic time each number's lease ends
        self._results: queue.Queue[tuple[Planned, SubmitOutcome]] = queue.Queue()
        # Submissions run on one asyncio loop (the SDK's aiohttp client costs a third of the
        # CPU of its requests client), at most `workers` at a time.
        self._loop = asyncio.new_event_loop()
        self._slots = asyncio.Semaphore(config.workers)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._rng = random.Random()
        self._in_flight = 0
        self._in_flight_lock = threading.Lock()
        # Attempts this process still holds (planned, submitting, or answered but not yet
        # recorded): late, never lost, so reconciliation must leave them be.
        self._holding: set[UUID] = set()
        self._backlog: Counter[str] = Counter()  # planned submissions per number, not yet started
        self._unrecorded: list[tuple[Planned, SubmitOutcome]] = []  # answers a failed write lost

    # Life cycle ----------------------------------------------------------------------

    def start(self) -> None:
        self.gateway.warm()
        loops = (
            (self._loop.run_forever, "submit"),
            (self._schedule_loop, "schedule"),
            (self._record_loop, "record"),
        )
        for target, name in loops:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Finish what is planned, record every answer, hand the numbers back."""
        deadline = time.monotonic() + self.config.horizon + 10
        while (self._heap or self._in_flight) and time.monotonic() < deadline:
            time.sleep(0.05)
        self._stop.set()
        with self._heap_changed:
            self._heap_changed.notify_all()
        asyncio.run_coroutine_threadsafe(self.gateway.aclose(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        for thread in self._threads:
            thread.join(timeout=10)
        self._record_results()
        self.work.release_lanes(self.config.name)

    # Planning ------------------------------------------------------------------------

    def _spacing(self, segments: int, mps: int) -> float:
        return segments * (1 + self.config.margin) / mps

    def plan(self) -> int:
        """Plan and record the next `horizon` seconds of submissions; how many were planned."""
        now = self.clock.now()
        end = now + timedelta(seconds=self.config.horizon)
        # The lease always outlasts what is planned, so only a stalled process loses it.
        lease = max(self.config.lease, self.config.horizon + 1.0)
        lanes = self.work.claim_lanes(self.config.name, lease, limit=10_000)
        claimed_at = time.monotonic()
        cursor = {}
        for lane in lanes:
            self._lease_ends[lane.phone_number] = claimed_at + lane.lease_left
            cursor[lane.phone_number] = now + timedelta(seconds=lane.next_in)
            if lane.taken_over_ago is not None:
                # Another dispatcher had it: leave a whole window after its last chance to send.
                last_chance = now - timedelta(seconds=lane.taken_over_ago)
                cursor[lane.phone_number] = max(cursor[lane.phone_number], last_chance)
                cursor[lane.phone_number] += timedelta(seconds=1 + self.config.margin)
        mps = {lane.phone_number: lane.mps for lane in lanes}
        # A number whose last plan is not yet submitted (Twilio answers slowly, or this
        # process is starved of CPU) gets no more until it is: the plan never runs ahead.
        cursor = {
            phone: at
            for phone, at in cursor.items()
            if at < end and self._backlog[phone] < mps[phone] * self.config.horizon
        }
        if not cursor:
            return 0
        planned: list[tuple[datetime, Planned]] = []
        held: Counter[UUID] = Counter()
        policies = self._policies()

        def take(message: Message) -> None:
            lane = message.from_number
            policy = policies.of(message.account_id)
            quiet_from = policy.begins(zones_of(message.to), cursor[lane]) if policy else None
            planned.append((cursor[lane], Planned(message, lane, mps[lane], quiet_from)))
            cursor[lane] += timedelta(seconds=self._spacing(message.segments, mps[lane]))

        for message_id in self.work.due_messages(list(cursor), now, limit=5000):
            message: object = self.store.repository.get(message_id)
            if not isinstance(message, Message) or cursor.get(message.from_number, end) >= end:
                continue
            if message.attempt_state not in (AttemptState.NEW, AttemptState.RETRY):
                continue  # the read models lag: it is in flight already
            if self._held(policies, message.account_id, message.to, cursor[message.from_number]):
                continue
            if message.campaign_id is not None:
                if not self.work.hold(message.campaign_id):
                    continue
                held[message.campaign_id] += 1
            message.attempt(at=now, dispatcher=self.config.name)
            take(message)

        quiet: dict[UUID, datetime] = {}  # campaigns with nothing planned: until when they wait
        sending: set[UUID] = set()
        for campaign in self.work.running_campaigns(list(cursor)):
            budgets = {
                lane: int((end - cursor[lane]).total_seconds() * mps[lane]) + 1
                for lane in campaign.from_numbers
                if lane in cursor and cursor[lane] < end
            }
            if not budgets or not self.work.hold(campaign.campaign_id):
                continue
            render = compile_template(campaign.message_template)
            for due in self.work.due_recipients(campaign.campaign_id, budgets):
                if cursor[due.from_number] >= end:
                    continue
                # Checked at the time it would go, so nothing goes inside the window.
                wait = self._held(policies, campaign.account_id, due.phone, cursor[due.from_number])
                if wait is not None:
                    quiet[campaign.campaign_id] = min(wait, quiet.get(campaign.campaign_id, wait))
                    continue
                body = render(due.variables)
                segments = count_segments(body)
                take(
                    Message(
                        id=campaign_message_id(campaign.campaign_id, due.index, due.round),
                        account_id=campaign.account_id,
                        agent_id=campaign.agent_id,
                        to=due.phone,
                        from_number=due.from_number,
                        body=body,
                        segments=segments.count,
                        encoding=segments.encoding,
                        created_at=now,
                        campaign_id=campaign.campaign_id,
                        recipient_index=due.index,
                        attempted_by=self.config.name,
                    )
                )
                sending.add(campaign.campaign_id)
                self.work.hold(campaign.campaign_id, check=False)  # one per submission
                held[campaign.campaign_id] += 1
            self.work.let_go(campaign.campaign_id)  # the hold taken to plan
            if campaign.campaign_id in sending and campaign.held_until is not None:
                self._quietly(self.campaigns.end_hold, campaign.campaign_id)
            elif campaign.campaign_id in quiet and campaign.campaign_id not in sending:
                until = quiet[campaign.campaign_id]
                if campaign.held_until != until:
                    self._quietly(self.campaigns.hold_for_quiet_hours, campaign.campaign_id, until)

        if not planned:
            return 0
        try:
            position = self.store.record(*(item.message for _, item in planned))
        except IntegrityError:
            # Another dispatcher recorded some of these first (it held the number before
            # our lease): plan again next time from fresh read models.
            log.warning("plan_conflict", extra={"planned": len(planned)})
            for campaign_id, count in held.items():
                for _ in range(count):
                    self.work.let_go(campaign_id)
            self.read_models.catch_up()
            return 0
        self.read_models.catch_up(until=position)
        planned_until = self.clock.now()
        self.work.advance_lanes(
            self.config.name,
            {lane: (at - planned_until).total_seconds() for lane, at in cursor.items()},
        )
        start = time.monotonic()
        with self._heap_changed:
            self._holding.update(item.message.id for _, item in planned)
            for at, item in planned:
                self._backlog[item.lane] += 1
                self._sequence += 1
                due_at = start + (at - now).total_seconds()
                if item.quiet_from is not None:
                    item.go_before = start + (item.quiet_from - now).total_seconds()
                self._heap.append((due_at, self._sequence, item))
            self._heap.sort()
            self._heap_changed.notify_all()
        return len(planned)

    def _policies(self) -> "Policies":
        """The accounts' quiet hours, read once per plan."""
        return Policies(self.read_models)

    @staticmethod
    def _held(policies: "Policies", account_id: UUID, phone: str, at: datetime) -> datetime | None:
        """Until when the account's quiet hours hold a message to `phone` due `at`, if they do."""
        return held_until(policies.of(account_id), zones_of(phone), at)

    @staticmethod
    def _quietly(change: Callable[..., None], *args: object) -> None:
        """A campaign's hold is news, not a duty: a cancel or pause recorded meanwhile wins."""
        with contextlib.suppress(InvalidTransition, IntegrityError):
            change(*args)

    # Submitting ----------------------------------------------------------------------

    def _schedule_loop(self) -> None:
        while not self._stop.is_set():
            with self._heap_changed:
                if not self._heap:
                    self._heap_changed.wait(0.05)
                    continue
                due_at, _, item = self._heap[0]
                now = time.monotonic()
                kept_back = self._keep_back(item, now)
                if kept_back is not None:
                    heapq.heappop(self._heap)
                    self._backlog[item.lane] -= 1
                    self._not_submitted(item, kept_back)
                    continue
                window = self._windows.setdefault(item.lane, SlidingWindow())
                not_before = max(due_at, window.earliest(now, item.message.segments, item.mps))
                if not_before > now:
                    self._heap_changed.wait(min(not_before - now, 0.05))
                    continue
                heapq.heappop(self._heap)
                self._backlog[item.lane] -= 1
                item.window_entry = window.sending(item.message.segments)
                with self._in_flight_lock:
                    self._in_flight += 1
            asyncio.run_coroutine_threadsafe(self._submit(item), self._loop)

    def _keep_back(self, item: Planned, now: float) -> SubmitOutcome | None:
        """Why a planned submission must not start now, if it must not."""
        if now > self._lease_ends.get(item.lane, 0.0) - LEASE_SAFETY:
            # We stalled: another dispatcher may own the number (and this attempt) by now.
            log.warning("lease_lost", extra={"number": item.lane})
            return LEASE_LOST
        if now >= item.go_before - QUIET_HOURS_SAFETY:  # held up (by the window or the machine)
            return QUIET_HOURS_BEGAN
        return None

    def _not_submitted(self, item: Planned, outcome: SubmitOutcome) -> None:
        """Record that it was kept back (planned again later); release its campaign hold off
        this thread."""
        self._results.put((item, outcome))
        if item.message.campaign_id is not None:
            threading.Thread(target=self.work.let_go, args=(item.message.campaign_id,)).start()

    async def _submit(self, item: Planned) -> None:
        message = item.message
        try:
            async with self._slots:
                # Waiting for a slot takes time too: look again just before the request.
                kept_back = self._keep_back(item, time.monotonic())
                outcome = kept_back or await self.gateway.submit_async(
                    message.account_id,
                    message.to,
                    message.from_number,
                    message.body,
                    self.status_callback_url(message.id),
                )
        except Exception as error:  # an adapter bug must not lose the attempt
            log.exception("submit_failed")
            outcome = SubmitOutcome("uncertain", error_message=str(error))
        with self._heap_changed:
            SlidingWindow.answered(item.window_entry, time.monotonic())
            self._heap_changed.notify_all()
        self._results.put((item, outcome))
        if message.campaign_id is not None:
            # The guard's database call must not block the loop.
            await asyncio.to_thread(self.work.let_go, message.campaign_id)
        with self._in_flight_lock:
            self._in_flight -= 1

    def status_callback_url(self, message_id: UUID) -> str:
        public = ids.public_id(ids.MESSAGE, message_id)
        return f"{self.config.public_url}/webhooks/twilio/status/{public}"

    # Recording answers ---------------------------------------------------------------

    def _record_loop(self) -> None:
        while not self._stop.is_set():
            try:
                first = self._results.get(timeout=0.05)
            except queue.Empty:
                continue
            self._results.put(first)
            time.sleep(0.02)  # let a batch gather
            try:
                self._record_results()
            except Exception:
                log.exception("record_failed")
                time.sleep(0.5)

    def _record_results(self) -> None:
        batch: list[tuple[Planned, SubmitOutcome]] = []
        while True:
            try:
                batch.append(self._results.get_nowait())
            except queue.Empty:
                break
        retry, self._unrecorded = self._unrecorded, []
        if not batch and not retry:
            return
        now = self.clock.now()
        try:
            position = self._record_one_by_one(retry, now) if retry else 0
            if batch:
                aggregates: list[object] = []
                for item, outcome in batch:
                    aggregates += self._apply(item.message, outcome, now)
                try:
                    position = max(position, self.store.record(*aggregates))
                except IntegrityError:
                    # A status callback was recorded on some message meanwhile: one by one.
                    position = max(position, self._record_one_by_one(batch, now))
        except Exception:
            # The database failed us; the aggregates in hand are spent (their events were
            # taken), so these answers are recorded again later from fresh ones.
            self._unrecorded = retry + batch
            raise
        with self._heap_changed:
            self._holding.difference_update(item.message.id for item, _ in retry + batch)
        self.read_models.catch_up(until=position)

    def _record_one_by_one(self, batch: list[tuple[Planned, SubmitOutcome]], now: datetime) -> int:
        position = 0
        for item, outcome in batch:
            position = max(position, self._record_fresh(item.message.id, outcome, now))
        return position

    def _record_fresh(self, message_id: UUID, outcome: SubmitOutcome, now: datetime) -> int:
        for _ in range(5):
            message: object = self.store.repository.get(message_id)
            assert isinstance(message, Message)
            if message.attempt_state != AttemptState.IN_FLIGHT:
                return 0
            try:
                return self.store.record(*self._apply(message, outcome, now))
            except IntegrityError:
                continue
        log.error("record_gave_up", extra={"message_id": str(message_id)})
        return 0

    def _apply(self, message: Message, outcome: SubmitOutcome, now: datetime) -> list[object]:
        changed: list[object] = [message]
        if outcome.kind == "queued":
            assert outcome.twilio_sid is not None
            message.queued(twilio_sid=outcome.twilio_sid, at=now)
        elif outcome.kind == "rejected":
            message.rejected(
                error_code=outcome.error_code, error_message=outcome.error_message, at=now
            )
            if outcome.error_code == OPT_OUT_ERROR:
                changed.append(self._opt_out(message, now))
        elif outcome.kind == "deferred" and message.attempts < self.config.max_attempts:
            delay = retry_delay(message.attempts, self._rng)
            message.deferred(
                reason=outcome.error_message,
                error_code=outcome.error_code,
                retry_at=now + timedelta(seconds=delay),
                at=now,
            )
        elif outcome.kind == "deferred":
            message.rejected(
                error_code=outcome.error_code,
                error_message=f"gave up after {message.attempts} attempts: {outcome.error_message}",
                at=now,
            )
        elif outcome.kind == "not_submitted":  # no attempt reached Twilio: not counted against it
            message.deferred(reason=outcome.error_message, error_code=None, retry_at=now, at=now)
        else:
            message.uncertain(reason=outcome.error_message, at=now)
        return changed

    def _opt_out(self, message: Message, now: datetime) -> Consent:
        try:
            consent: object = self.store.repository.get(consent_id(message.account_id, message.to))
        except Exception:
            consent = Consent(account_id=message.account_id, phone=message.to)
        assert isinstance(consent, Consent)
        consent.opt_out(keyword="21610", source="twilio", evidence="error 21610 on submit", at=now)
        return consent

    # Reconciliation and campaign progress --------------------------------------------

    def reconcile(self) -> int:
        """Look up attempts whose answer was never recorded; queue them or free them."""
        now = self.clock.now()
        stale = self.work.stale_attempts(
            now - timedelta(seconds=self.config.attempt_timeout),
            now - timedelta(seconds=self.config.uncertain_delay),
            limit=500,
            me=self.config.name,
        )
        with self._heap_changed:
            stale = [message_id for message_id in stale if message_id not in self._holding]
        changed: list[Message] = []
        for message_id in stale:
            message: object = self.store.repository.get(message_id)
            if not isinstance(message, Message) or message.attempt_state not in (
                AttemptState.IN_FLIGHT,
                AttemptState.UNCERTAIN,
            ):
                continue
            try:
                sid = self.gateway.find(
                    message.account_id,
                    message.to,
                    message.from_number,
                    message.body,
                    since=message.attempted_at - timedelta(minutes=5),
                )
            except Exception:
                log.exception("reconcile_lookup_failed")
                continue
            if sid is not None:
                message.queued(twilio_sid=sid, at=now, found_by_reconciliation=True)
            else:
                message.deferred(
                    reason="not in Twilio after an unanswered submission",
                    error_code=None,
                    retry_at=now,
                    at=now,
                )
            changed.append(message)
        if changed:
            try:
                self.read_models.catch_up(until=self.store.record(*changed))
            except IntegrityError:
                self.read_models.catch_up()
        return len(changed)

    def progress_campaigns(self) -> None:
        """Finish campaigns with nothing left to submit; pause those that mostly fail."""
        for campaign_id, all_failed in self.work.finished_campaigns():
            with contextlib.suppress(InvalidTransition, IntegrityError):
                self.campaigns.finish(campaign_id, all_failed)
        for campaign_id in self.work.running_campaign_ids():
            outcomes = self.work.recent_outcomes(campaign_id, self.config.auto_pause_window)
            failures = [code for status, code in outcomes if status in ("failed", "undelivered")]
            if len(outcomes) == self.config.auto_pause_window and (
                len(failures) >= self.config.auto_pause_failures
            ):
                common = Counter(failures).most_common(1)[0][0]
                reason = (
                    f"{len(failures)} of the last {len(outcomes)} submissions failed"
                    f" (most often error {common})"
                )
                with contextlib.suppress(InvalidTransition, IntegrityError):
                    self.campaigns.auto_pause(campaign_id, reason)

    def start_due_campaigns(self) -> list[tuple[UUID, datetime]]:
        """Start scheduled campaigns whose time has come; the rest, with their times."""
        now = self.clock.now()
        later = []
        for campaign_id, scheduled_at in self.work.scheduled_campaigns():
            if scheduled_at <= now:
                self.start_campaign(campaign_id)
            else:
                later.append((campaign_id, scheduled_at))
        return later

    def start_campaign(self, campaign_id: UUID) -> None:
        with contextlib.suppress(InvalidTransition, IntegrityError):
            self.campaigns.start(campaign_id)
