"""`herald dispatch`: the dispatcher process, driven by APScheduler.

APScheduler only says when to look; PostgreSQL decides who sends what (leased numbers,
campaign locks), so any number of these processes can run together. Scheduled launches
are rebuilt from the read models at start and re-read every few seconds, so a restart
loses nothing.

The `Dispatcher` runs one dispatcher's use cases (application.dispatch) on its threads:
every `plan()` leases numbers and records the next attempts; the submitter (its heap
scheduler thread and asyncio loop) submits each at its time; Twilio's answers are recorded
in batches on a thread of their own. An attempt stays held by this process until its
answer is recorded, so reconciliation leaves it be; answers a failed write lost are
recorded again with the next batch.
"""

import threading
import time
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog
from apscheduler.schedulers.background import BackgroundScheduler

from application.dispatch import Dispatching
from application.planning import Planned
from application.ports import SubmitOutcome
from interfaces.batches import Batches
from interfaces.bootstrap import Herald
from interfaces.reply_worker import SWEEP_EVERY, TICK_EVERY, ReplyWorker
from interfaces.submitter import Submitter

log = structlog.get_logger()

PLAN_EVERY = 0.2  # seconds; plans cover `horizon` (1 s) ahead, so numbers never starve
RECONCILE_EVERY = 2.0
SCHEDULE_SYNC_EVERY = 5.0
RECORD_GATHER = 0.02  # seconds an answer waits for others to be recorded with it
RECORD_FAILED_PAUSE = 0.5

Answer = tuple[Planned, SubmitOutcome]


class Dispatcher:
    """One dispatcher: submits due messages to Twilio, paced per sender number, exactly once."""

    def __init__(self, dispatching: Dispatching) -> None:
        self.use_cases = dispatching
        self.config = dispatching.config
        self._stop = threading.Event()
        self._answers: Batches[Answer] = Batches("record", RECORD_GATHER)
        self.submitter = Submitter(
            dispatching.gateway,
            dispatching.work,
            self.config.public_url,
            self.config.workers,
            answered=lambda item, outcome: self._answers.put((item, outcome)),
            stop=self._stop,
        )
        # Attempts this process still holds (planned, submitting, or answered but not yet
        # recorded): late, never lost, so reconciliation must leave them be.
        self._holding: set[UUID] = set()
        self._holding_lock = threading.Lock()
        self._unrecorded: list[Answer] = []  # answers a failed write lost

    def start(self) -> None:
        self.use_cases.gateway.warm()
        self.submitter.start()
        self._answers.start(self._record_batch, stop=self._stop)

    def stop(self) -> None:
        """Finish what is planned, record every answer, hand the numbers back."""
        deadline = time.monotonic() + self.config.horizon + 10
        while self.submitter.busy() and time.monotonic() < deadline:
            time.sleep(0.05)
        self._stop.set()
        self.submitter.stop()
        self._answers.join(timeout=10)
        self._record(self._answers.take())
        self.use_cases.work.release_lanes(self.config.name)

    def plan(self) -> int:
        """Plan and record the next `horizon` seconds of submissions; how many were planned."""
        planning = self.use_cases.planning
        claim = planning.claim()
        claimed_at = time.monotonic()
        self.submitter.leased(
            {lane.phone_number: claimed_at + lane.lease_left for lane in claim.lanes}
        )
        planned = planning.plan(claim, self.submitter.backlog)
        if not planned:
            return 0
        start = time.monotonic()
        with self._holding_lock:
            self._holding.update(item.message.id for item in planned)
        self.submitter.schedule(planned, claim.now, start)
        return len(planned)

    def reconcile(self) -> int:
        """Look up attempts whose answer was never recorded (but those this process holds)."""
        return self.use_cases.reconciliation.reconcile(self._not_held)

    def _not_held(self, message_ids: list[UUID]) -> list[UUID]:
        with self._holding_lock:
            return [message_id for message_id in message_ids if message_id not in self._holding]

    def _record_batch(self, batch: list[Answer]) -> None:
        try:
            self._record(batch)
        except Exception:
            log.exception("record_failed")
            time.sleep(RECORD_FAILED_PAUSE)

    def _record(self, batch: list[Answer]) -> None:
        retry, self._unrecorded = self._unrecorded, []
        if not batch and not retry:
            return
        answers = self.use_cases.answers
        try:
            position = answers.record(
                [(item.message, outcome) for item, outcome in batch],
                again=[(item.message, outcome) for item, outcome in retry],
            )
        except Exception:
            # The database failed us; the aggregates in hand are spent (their events were
            # taken), so these answers are recorded again later from fresh ones.
            self._unrecorded = retry + batch
            raise
        with self._holding_lock:
            self._holding.difference_update(item.message.id for item, _ in retry + batch)
        answers.catch_up(position)


class DispatcherProcess:
    def __init__(self, herald: Herald, **config: Any) -> None:
        self.herald = herald
        dispatching = herald.dispatcher(**config)
        self.progress = dispatching.progress
        self.dispatcher = Dispatcher(dispatching)
        # The agents' answers to replies are written here too (interfaces/reply_worker.py).
        self.replies = ReplyWorker(herald.replies(dispatching.config.name))
        self.scheduler = BackgroundScheduler(timezone="UTC")
        self.stopped = threading.Event()

    def start(self) -> None:
        self.dispatcher.start()
        every = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 5}
        self.scheduler.add_job(
            self._guarded(self.dispatcher.plan), "interval", seconds=PLAN_EVERY, id="plan", **every
        )
        self.scheduler.add_job(
            self._guarded(self._reconcile),
            "interval",
            seconds=RECONCILE_EVERY,
            id="reconcile",
            **every,
        )
        self.scheduler.add_job(
            self._guarded(self._sync_schedule),
            "interval",
            seconds=SCHEDULE_SYNC_EVERY,
            id="schedule",
            **every,
        )
        self.scheduler.add_job(
            self._guarded(self.replies.tick), "interval", seconds=TICK_EVERY, id="replies", **every
        )
        self.scheduler.add_job(
            self._guarded(self.replies.sweep),
            "interval",
            seconds=SWEEP_EVERY,
            id="reply_sweep",
            **every,
        )
        self.scheduler.start()
        self._sync_schedule()

    def _reconcile(self) -> None:
        self.dispatcher.reconcile()
        self.progress.progress_campaigns()

    def _sync_schedule(self) -> None:
        """One date job per scheduled campaign, at its scheduled_at."""
        for campaign_id, scheduled_at in self.progress.start_due_campaigns():
            self._schedule_launch(campaign_id, scheduled_at)

    def _schedule_launch(self, campaign_id: UUID, at: datetime) -> None:
        self.scheduler.add_job(
            self._guarded(lambda: self.progress.start_campaign(campaign_id)),
            "date",
            run_date=at,
            id=f"launch-{campaign_id}",
            replace_existing=True,
            misfire_grace_time=None,
        )

    @staticmethod
    def _guarded(job: Any) -> Any:
        def run() -> None:
            try:
                job()
            except Exception:
                log.exception("job_failed")

        return run

    def stop(self) -> None:
        self.scheduler.shutdown(wait=True)
        self.replies.stop()  # answers being written are recorded (and sent by a dispatcher)
        self.dispatcher.stop()
        self.stopped.set()
