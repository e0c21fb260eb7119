"""The dispatcher's use cases, built together from one configuration.

A dispatcher submits due messages to Twilio, paced per sender number, exactly once. Each
step is a short synchronous use case: `planning` leases numbers and records the next
attempts, `answers` records Twilio's answers, `reconciliation` looks up attempts whose
answer was never recorded, `progress` finishes, pauses and starts campaigns. The threads
and the asyncio loop that run them live with the process (interfaces.dispatcher).
"""

from dataclasses import dataclass, field
from uuid import uuid4

from application.answers import Answers
from application.campaign_progress import CampaignProgress
from application.campaigns import Campaigns
from application.dispatch_queue import DispatchQueue
from application.planning import Planning
from application.ports import Clock, ReadModels, SmsGateway
from application.reconciliation import Reconciliation
from application.store import EventStore
from domain.auto_pause import AutoPause


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


class Dispatching:
    """One dispatcher's use cases, and the ports its runtime submits through."""

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
        self.config = config
        self.work = work
        self.gateway = gateway
        self.planning = Planning(
            store,
            read_models,
            work,
            campaigns,
            clock,
            name=config.name,
            horizon=config.horizon,
            lease=config.lease,
            margin=config.margin,
        )
        self.answers = Answers(store, read_models, clock, max_attempts=config.max_attempts)
        self.reconciliation = Reconciliation(
            store,
            read_models,
            work,
            gateway,
            clock,
            name=config.name,
            attempt_timeout=config.attempt_timeout,
            uncertain_delay=config.uncertain_delay,
        )
        self.progress = CampaignProgress(
            work,
            campaigns,
            clock,
            AutoPause(window=config.auto_pause_window, failures=config.auto_pause_failures),
        )
