"""Planning's holds on campaigns and accounts (what cancel, pause and opt-out wait for):
each submission planned keeps one, and a plan that fails lets every one of them go."""

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from application.planning import Claim, Planning
from application.store import EventStore
from projections.work_queue import CampaignToSend, DueRecipient, Lane
from tests.conftest import FakeReadModels, FixedClock, in_memory

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
NUMBER = "+447446466847"


class FakeWorkQueue:
    """One running campaign with due recipients; counts the holds taken and let go."""

    def __init__(self, campaign: CampaignToSend, due: list[DueRecipient], fail: bool = False):
        self.campaign = campaign
        self.due = due
        self.fail = fail
        self.holds: Counter[UUID] = Counter()
        self.account_holds: Counter[UUID] = Counter()
        self.blocked_accounts: set[UUID] = set()

    def due_messages(self, lanes: Sequence[str], now: datetime, limit: int) -> list[UUID]:
        return []

    def running_campaigns(self, lanes: Sequence[str]) -> list[CampaignToSend]:
        return [self.campaign]

    def due_recipients(
        self, campaign_id: UUID, account_id: UUID, budgets: dict[str, int]
    ) -> list[DueRecipient]:
        if self.fail:
            raise ConnectionError("the database went away")
        return self.due

    def hold(self, campaign_id: UUID, check: bool = True) -> bool:
        self.holds[campaign_id] += 1
        return True

    def let_go(self, campaign_id: UUID) -> None:
        self.holds[campaign_id] -= 1

    def hold_account(self, account_id: UUID, check: bool = True) -> bool:
        if check and account_id in self.blocked_accounts:
            return False
        self.account_holds[account_id] += 1
        return True

    def let_go_account(self, account_id: UUID) -> None:
        self.account_holds[account_id] -= 1

    def advance_lanes(self, owner: str, next_in: dict[str, float]) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"planning did not expect to call {name}")


def setup(
    fail: bool = False, opted_out: bool = False
) -> tuple[Planning, FakeWorkQueue, CampaignToSend, EventStore]:
    campaign = CampaignToSend(uuid4(), uuid4(), uuid4(), "Hi {{name}}", [NUMBER], None)
    due = [
        DueRecipient(
            campaign.campaign_id, i, f"+44711100000{i}", {"name": "A"}, NUMBER, 0, opted_out
        )
        for i in range(3)
    ]
    work = FakeWorkQueue(campaign, due, fail)
    herald = in_memory()
    planning = Planning(
        herald.store,
        FakeReadModels(),
        work,  # type: ignore[arg-type]
        herald.campaigns,
        FixedClock(NOW),
        "dispatcher-1",
        horizon=1.0,
        lease=5.0,
        margin=0.005,
    )
    return planning, work, campaign, herald.store


def claim() -> Claim:
    return Claim(NOW, [Lane(NUMBER, 10, 0.0, 5.0, None)])


def test_each_planned_submission_holds_its_campaign_and_its_account() -> None:
    planning, work, campaign, _ = setup()
    planned = planning.plan(claim(), backlog={})
    assert len(planned) == 3
    assert work.holds[campaign.campaign_id] == 3
    assert work.account_holds[campaign.account_id] == 3


def test_a_plan_that_fails_lets_every_hold_go() -> None:
    planning, work, campaign, _ = setup(fail=True)
    with pytest.raises(ConnectionError):
        planning.plan(claim(), backlog={})
    assert work.holds[campaign.campaign_id] == 0
    assert work.account_holds[campaign.account_id] == 0


def test_recipients_opted_out_are_recorded_suppressed_and_hold_nothing() -> None:
    planning, work, campaign, store = setup(opted_out=True)
    assert planning.plan(claim(), backlog={}) == []
    assert (work.holds[campaign.campaign_id], work.account_holds[campaign.account_id]) == (0, 0)
    kinds = [type(r.event).__qualname__ for r in store.stream()]
    assert kinds.count("Message.Suppressed") == 3


def test_nothing_of_an_account_is_planned_while_its_opt_out_is_recorded() -> None:
    planning, work, campaign, _ = setup()
    work.blocked_accounts.add(campaign.account_id)
    assert planning.plan(claim(), backlog={}) == []
    assert (work.holds[campaign.campaign_id], work.account_holds[campaign.account_id]) == (0, 0)
