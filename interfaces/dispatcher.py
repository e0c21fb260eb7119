"""`herald dispatch`: the dispatcher process, driven by APScheduler.

APScheduler only says when to look; PostgreSQL decides who sends what (leased numbers,
campaign locks), so any number of these processes can run together. Scheduled launches
are rebuilt from the read models at start and re-read every few seconds, so a restart
loses nothing.
"""

import logging
import threading
from datetime import datetime
from typing import Any
from uuid import UUID

from apscheduler.schedulers.background import BackgroundScheduler

from application.dispatch import Dispatcher
from interfaces.bootstrap import Herald

log = logging.getLogger("herald.dispatcher")
# Skipped runs of a job still busy are expected under load; only errors are news.
logging.getLogger("apscheduler").setLevel(logging.ERROR)

PLAN_EVERY = 0.2  # seconds; plans cover `horizon` (1 s) ahead, so numbers never starve
RECONCILE_EVERY = 2.0
SCHEDULE_SYNC_EVERY = 5.0


class DispatcherProcess:
    def __init__(self, herald: Herald, **config: Any) -> None:
        self.herald = herald
        self.dispatcher: Dispatcher = herald.dispatcher(**config)
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
        self.scheduler.start()
        self._sync_schedule()

    def _reconcile(self) -> None:
        self.dispatcher.reconcile()
        self.dispatcher.progress_campaigns()

    def _sync_schedule(self) -> None:
        """One date job per scheduled campaign, at its scheduled_at."""
        for campaign_id, scheduled_at in self.dispatcher.start_due_campaigns():
            self._schedule_launch(campaign_id, scheduled_at)

    def _schedule_launch(self, campaign_id: UUID, at: datetime) -> None:
        self.scheduler.add_job(
            self._guarded(lambda: self.dispatcher.start_campaign(campaign_id)),
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
        self.dispatcher.stop()
        self.stopped.set()
