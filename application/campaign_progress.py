"""Campaign progress as the dispatcher sees it: finish campaigns with nothing left to
submit, pause those that mostly fail (domain.auto_pause), start scheduled ones on time."""

import contextlib
from datetime import datetime
from uuid import UUID

from application.campaigns import Campaigns
from application.dispatch_queue import DispatchQueue
from application.ports import Clock
from application.store import IntegrityError
from domain.auto_pause import AutoPause
from domain.errors import InvalidTransition


class CampaignProgress:
    def __init__(
        self, work: DispatchQueue, campaigns: Campaigns, clock: Clock, auto_pause: AutoPause
    ) -> None:
        self.work = work
        self.campaigns = campaigns
        self.clock = clock
        self.auto_pause = auto_pause

    def progress_campaigns(self) -> None:
        """Finish campaigns with nothing left to submit; pause those that mostly fail."""
        for campaign_id, all_failed in self.work.finished_campaigns():
            with contextlib.suppress(InvalidTransition, IntegrityError):
                self.campaigns.finish(campaign_id, all_failed)
        for campaign_id in self.work.running_campaign_ids():
            outcomes = self.work.recent_outcomes(campaign_id, self.auto_pause.window)
            reason = self.auto_pause.reason(outcomes)
            if reason is not None:
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
