"""Planning: lease the sender numbers no other dispatcher holds and plan, and record, up to
`horizon` seconds of submissions on each.

Single sends and retries come first, then campaign recipients, spaced a little over
`segments / mps` apart (domain.dispatching). The attempts are recorded (events) before
any call to Twilio: the dispatcher's runtime then submits each at its time.

Opt-outs: every planned submission holds its account's guard (shared) until it is answered,
and the consents are read only once the guard is held. An opt-out is recorded under the
same guard taken exclusively (application/consents.py), so a phone's message is either
planned and submitted before its opt-out commits, or planned after it and suppressed
(`Message.Suppressed`), never sent.
"""

import contextlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from uuid import UUID

import structlog

from application.campaigns import Campaigns
from application.dispatch_queue import CampaignToSend, DispatchQueue, Due, Lane
from application.ports import Clock, ReadModels
from application.store import EventStore, IntegrityError
from domain.consent import OPTED_OUT
from domain.dispatching import budget, lane_start, may_attempt, may_plan, spacing
from domain.errors import InvalidTransition
from domain.message import Message, campaign_message_id
from domain.phone import time_zones
from domain.quiet_hours import QuietHours
from domain.replies import answer_held_until, exempt
from domain.segments import count_segments
from domain.template import compile_template

log = structlog.get_logger()


@dataclass(frozen=True)
class Planned:
    """One submission planned and recorded as attempted."""

    message: Message
    lane: str  # its sender number
    mps: int
    at: datetime  # when it is due
    quiet_from: datetime | None  # it must go before the account's quiet hours begin


@dataclass(frozen=True)
class Claim:
    """The numbers one plan leased, and when."""

    now: datetime
    lanes: Sequence[Lane]


class Policies:
    """Quiet-hours policies of the accounts met in one plan, each read once."""

    def __init__(self, read_models: ReadModels) -> None:
        self.read_models = read_models
        self._known: dict[UUID, QuietHours | None] = {}

    def of(self, account_id: UUID) -> QuietHours | None:
        if account_id not in self._known:
            self._known[account_id] = self.read_models.quiet_hours([account_id])[account_id]
        return self._known[account_id]

    def held(
        self, account_id: UUID, phone: str, at: datetime, exempt_until: datetime | None = None
    ) -> datetime | None:
        """Until when the account's quiet hours hold a message to `phone` due `at`, if they do
        (never an answer to a recent reply: `exempt_until`)."""
        return answer_held_until(self.of(account_id), zones_of(phone), at, exempt_until)


@lru_cache(maxsize=200_000)
def zones_of(phone: str) -> tuple[str, ...]:
    return time_zones(phone)


@dataclass
class _Plan:
    """One plan in the making: where each number's next submission goes."""

    end: datetime
    cursor: dict[str, datetime]
    mps: dict[str, int]
    margin: float
    policies: Policies
    planned: list[Planned] = field(default_factory=list)
    held: Counter[UUID] = field(default_factory=Counter)  # campaign holds taken
    accounts: Counter[UUID] = field(default_factory=Counter)  # account holds taken
    suppressed: list[Message] = field(default_factory=list)  # opted out since accepted

    def full(self, lane: str) -> bool:
        return self.cursor.get(lane, self.end) >= self.end

    def take(self, message: Message) -> None:
        lane = message.from_number
        at = self.cursor[lane]
        policy = self.policies.of(message.account_id)
        if policy is None or exempt(message.quiet_hours_exempt_until, at):
            quiet_from = None
        else:
            quiet_from = policy.begins(zones_of(message.to), at)
        self.planned.append(Planned(message, lane, self.mps[lane], at, quiet_from))
        self.cursor[lane] += timedelta(
            seconds=spacing(message.segments, self.mps[lane], self.margin)
        )


class Planning:
    def __init__(
        self,
        store: EventStore,
        read_models: ReadModels,
        work: DispatchQueue,
        campaigns: Campaigns,
        clock: Clock,
        name: str,
        horizon: float,
        lease: float,
        margin: float,
    ) -> None:
        self.store = store
        self.read_models = read_models
        self.work = work
        self.campaigns = campaigns
        self.clock = clock
        self.name = name
        self.horizon = horizon
        self.lease = lease
        self.margin = margin

    def claim(self) -> Claim:
        """Lease (or keep) every number no other dispatcher holds."""
        now = self.clock.now()
        # The lease always outlasts what is planned, so only a stalled process loses it.
        lease = max(self.lease, self.horizon + 1.0)
        return Claim(now, self.work.claim_lanes(self.name, lease, limit=10_000))

    def plan(self, claim: Claim, backlog: Mapping[str, int]) -> list[Planned]:
        """Plan and record the next `horizon` seconds of submissions on the claimed numbers
        (`backlog`: how many planned on each are not yet started)."""
        now = claim.now
        end = now + timedelta(seconds=self.horizon)
        mps = {lane.phone_number: lane.mps for lane in claim.lanes}
        starts = {
            lane.phone_number: lane_start(now, lane.next_in, lane.taken_over_ago, self.margin)
            for lane in claim.lanes
        }
        cursor = {
            phone: at
            for phone, at in starts.items()
            if may_plan(at, end, backlog.get(phone, 0), mps[phone], self.horizon)
        }
        if not cursor:
            return []
        plan = _Plan(end, cursor, mps, self.margin, Policies(self.read_models))
        try:
            self._plan_messages(plan, now)
            for campaign in self.work.running_campaigns(list(cursor)):
                self._plan_campaign(plan, campaign, now)
            if not plan.planned and not plan.suppressed:
                return []
            return self._record(plan)
        except BaseException:
            # Nothing of this plan is submitted: a hold kept would stall a cancel or an
            # opt-out of its campaign or account for as long as this process lives.
            self._let_go(plan)
            raise

    def _plan_messages(self, plan: _Plan, now: datetime) -> None:
        """Single sends and retries due on the numbers; those whose phone opted out since
        they were accepted are suppressed."""
        due = [
            message
            for message_id in self.work.due_messages(list(plan.cursor), now, limit=5000)
            if (message := self.store.find(Message, message_id)) is not None
            and may_attempt(message)
        ]
        guarded: set[UUID] = set()
        try:
            for account_id in {m.account_id for m in due}:
                if self.work.hold_account(account_id):
                    guarded.add(account_id)
            # Read once the accounts are guarded: no opt-out of theirs commits until let go.
            opted_out = {
                (account_id, phone)
                for account_id in guarded
                for phone in self.read_models.opted_out(
                    account_id, [m.to for m in due if m.account_id == account_id]
                )
            }
            self._take_messages(plan, due, guarded, opted_out, now)
        finally:
            for account_id in guarded:
                self.work.let_go_account(account_id)  # the hold taken to plan

    def _take_messages(
        self,
        plan: _Plan,
        due: list[Message],
        guarded: set[UUID],
        opted_out: set[tuple[UUID, str]],
        now: datetime,
    ) -> None:
        for message in due:
            if message.account_id not in guarded:
                continue  # an opt-out of the account is being recorded: next plan
            if (message.account_id, message.to) in opted_out:
                message.suppress(reason=OPTED_OUT, at=now)
                plan.suppressed.append(message)
                continue
            if plan.full(message.from_number):
                continue
            at = plan.cursor[message.from_number]
            exempt_until = message.quiet_hours_exempt_until
            if plan.policies.held(message.account_id, message.to, at, exempt_until):
                continue
            if message.campaign_id is not None:
                if not self.work.hold(message.campaign_id):
                    continue
                plan.held[message.campaign_id] += 1
            message.attempt(at=now, dispatcher=self.name)
            self.work.hold_account(message.account_id, check=False)  # one per submission
            plan.accounts[message.account_id] += 1
            plan.take(message)

    def _plan_campaign(self, plan: _Plan, campaign: CampaignToSend, now: datetime) -> None:
        """A running campaign's next recipients on the numbers; its quiet-hours hold news."""
        budgets = {
            lane: budget(plan.cursor[lane], plan.end, plan.mps[lane])
            for lane in campaign.from_numbers
            if lane in plan.cursor and plan.cursor[lane] < plan.end
        }
        if not budgets or not self.work.hold(campaign.campaign_id):
            return
        try:
            guarded = self.work.hold_account(campaign.account_id)
        except BaseException:
            self.work.let_go(campaign.campaign_id)
            raise
        if not guarded:
            self.work.let_go(campaign.campaign_id)  # an opt-out is being recorded: next plan
            return
        try:
            sending, quiet = self._take_recipients(plan, campaign, budgets, now)
        finally:
            self.work.let_go(campaign.campaign_id)  # the holds taken to plan
            self.work.let_go_account(campaign.account_id)
        if sending and campaign.held_until is not None:
            _quietly(self.campaigns.end_hold, campaign.campaign_id)
        elif quiet is not None and not sending and campaign.held_until != quiet:
            _quietly(self.campaigns.hold_for_quiet_hours, campaign.campaign_id, quiet)

    def _take_recipients(
        self, plan: _Plan, campaign: CampaignToSend, budgets: dict[str, int], now: datetime
    ) -> tuple[bool, datetime | None]:
        """Plan the campaign's due recipients: whether any is to be sent, and else until when
        quiet hours hold them."""
        render = compile_template(campaign.message_template)
        quiet: datetime | None = None  # with nothing planned: until when it waits
        sending = False
        # Read once the account is guarded: no opt-out of it commits until let go.
        for due in self.work.due_recipients(campaign.campaign_id, campaign.account_id, budgets):
            if due.opted_out:
                plan.suppressed.append(_suppressed(campaign, due, render, now))
                continue
            if plan.full(due.from_number):
                continue
            # Checked at the time it would go, so nothing goes inside the window.
            wait = plan.policies.held(campaign.account_id, due.phone, plan.cursor[due.from_number])
            if wait is not None:
                quiet = wait if quiet is None else min(wait, quiet)
                continue
            plan.take(_recipient_message(campaign, due, render, now, attempted_by=self.name))
            sending = True
            self.work.hold(campaign.campaign_id, check=False)  # one per submission
            plan.held[campaign.campaign_id] += 1
            self.work.hold_account(campaign.account_id, check=False)
            plan.accounts[campaign.account_id] += 1
        return sending, quiet

    def _let_go(self, plan: _Plan) -> None:
        """The holds taken for the plan's submissions, none of which will be made."""
        for campaign_id, count in plan.held.items():
            for _ in range(count):
                self.work.let_go(campaign_id)
        for account_id, count in plan.accounts.items():
            for _ in range(count):
                self.work.let_go_account(account_id)
        plan.held.clear()
        plan.accounts.clear()

    def _record(self, plan: _Plan) -> list[Planned]:
        try:
            position = self.store.record(*(item.message for item in plan.planned), *plan.suppressed)
        except IntegrityError:
            # Another dispatcher recorded some of these first (it held the number before
            # our lease): plan again next time from fresh read models.
            log.warning("plan_conflict", planned=len(plan.planned))
            self._let_go(plan)
            self.read_models.catch_up()
            return []
        self.read_models.catch_up(until=position)
        planned_until = self.clock.now()
        self.work.advance_lanes(
            self.name,
            {lane: (at - planned_until).total_seconds() for lane, at in plan.cursor.items()},
        )
        return plan.planned


def _recipient_message(
    campaign: CampaignToSend,
    due: Due,
    render: Callable[[Any], str],
    now: datetime,
    attempted_by: str | None = None,
) -> Message:
    """A due recipient's message: attempted by this dispatcher, or (without one) not sent."""
    body = render(due.variables)
    segments = count_segments(body)
    return Message(
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
        attempted_by=attempted_by,
    )


def _suppressed(
    campaign: CampaignToSend, due: Due, render: Callable[[Any], str], now: datetime
) -> Message:
    """A due recipient whose phone opted out: its message recorded as suppressed, never sent."""
    message = _recipient_message(campaign, due, render, now)
    message.suppress(reason=OPTED_OUT, at=now)
    return message


def _quietly(change: Callable[..., None], *args: object) -> None:
    """A campaign's hold is news, not a duty: a cancel or pause recorded meanwhile wins."""
    with contextlib.suppress(InvalidTransition, IntegrityError):
        change(*args)
