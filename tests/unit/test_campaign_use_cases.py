"""The campaign use cases, built through `bootstrap` as every process builds them.

Here they run on eventsourcing's in-memory store with fake read models (no database);
tests/integration/test_campaign_use_cases.py runs the same class on PostgreSQL with the
real projections.
"""

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from application.campaign_checks import CreateCampaign, RecipientIn
from application.campaigns import Campaigns
from application.directory import AddNumber, CreateAgent
from application.errors import Conflict, ValidationFailed
from domain import ids
from domain.campaign import Campaign, RecipientBatch
from interfaces.bootstrap import Herald
from interfaces.settings import Settings
from tests.conftest import NO_DATABASE, FixedClock, in_memory

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
MAX_RECIPIENTS = 5
NUMBERS = itertools.count(1)  # sender numbers are global: each world imports its own


@dataclass
class World:
    campaigns: Campaigns
    account: UUID
    agent: str
    from_number: str

    def command(self, **changes: object) -> CreateCampaign:
        return command(self.agent, **{"from_number": self.from_number, **changes})


def world_on(herald: Herald) -> World:
    """An account with an agent and a sender number of its own."""
    directory = herald.directory
    account = directory.create_account("Acme")
    agent = ids.public_id(ids.AGENT, directory.create_agent(account, CreateAgent("R", "p")))
    from_number = f"+4474462{next(NUMBERS):05d}"  # a range no other test imports from
    directory.add_number(account, AddNumber(from_number, agent, 1))
    return World(herald.campaigns, account, agent, from_number)


def command(agent: str, **changes: object) -> CreateCampaign:
    fields: dict[str, object] = {
        "agent_id": agent,
        "name": "March",
        "message_template": "Hi {{first_name}}",
        "recipients": [RecipientIn("+447111000001", {"first_name": "Sarah"})],
        "from_number": "+447446400001",
    }
    fields.update(changes)
    return CreateCampaign(**fields)  # type: ignore[arg-type]


def problems(error: pytest.ExceptionInfo[ValidationFailed]) -> list[tuple[str, str]]:
    return [(d["field"], d["code"]) for d in error.value.details]


class TestCampaignUseCases:
    @pytest.fixture
    def herald(self) -> Herald:
        settings = Settings(database_url=NO_DATABASE, max_recipients=MAX_RECIPIENTS)
        return in_memory(settings, clock=FixedClock(NOW))

    @pytest.fixture
    def world(self, herald: Herald) -> World:
        return world_on(herald)

    def test_creates_the_campaign_and_its_recipient_batch_together(self, world: World) -> None:
        campaigns, account = world.campaigns, world.account
        created = campaigns.create(account, world.command(), source="api")
        campaign = campaigns.store.get(Campaign, created.campaign_id)
        assert campaigns.store.get(RecipientBatch, campaign.batch_ids()[0]).size == 1

    def test_lists_every_problem_at_once(self, world: World) -> None:
        campaigns, account = world.campaigns, world.account
        bad = command(
            "agent_" + "0" * 32,
            from_number="+447446400099",
            name=" ",
            schedule_type="schedule",
            scheduled_at=NOW - timedelta(minutes=1),
            recipients=[
                RecipientIn("nope"),
                RecipientIn("+14155552671"),
                RecipientIn("+447111000001"),
            ],
        )
        with pytest.raises(ValidationFailed) as error:
            campaigns.create(account, bad, source="api")
        assert problems(error) == [
            ("agent_id", "unknown_agent"),
            ("from_number", "unknown_from_number"),
            ("scheduled_at", "in_past"),
            ("name", "required"),
            ("recipients[0].phone", "not_e164"),
            ("recipients[1].phone", "country_not_allowed"),
        ]

    def test_schedule_needs_a_time_zone_aware_time(self, world: World) -> None:
        campaigns, account = world.campaigns, world.account
        for scheduled_at, code in [(None, "required"), (datetime(2099, 1, 1), "invalid_datetime")]:
            with pytest.raises(ValidationFailed) as error:
                campaigns.create(
                    account,
                    world.command(schedule_type="schedule", scheduled_at=scheduled_at),
                    "api",
                )
            assert problems(error) == [("scheduled_at", code)]

    def test_on_invalid_skip_keeps_the_valid_recipients(self, world: World) -> None:
        campaigns, account = world.campaigns, world.account
        recipients = [RecipientIn("bad"), RecipientIn("+447111000002")]
        created = campaigns.create(
            account, world.command(recipients=recipients, on_invalid="skip"), "api"
        )
        assert campaigns.store.get(Campaign, created.campaign_id).recipient_count == 1

    def test_more_recipients_than_the_maximum_is_refused(self, world: World) -> None:
        campaigns, account = world.campaigns, world.account
        recipients = [RecipientIn(f"+44711100000{i}") for i in range(MAX_RECIPIENTS + 1)]
        with pytest.raises(ValidationFailed) as error:
            campaigns.create(account, world.command(recipients=recipients), "api")
        assert problems(error) == [("recipients", "too_many_recipients")]

    def test_same_idempotency_key_and_body_give_the_same_campaign(self, world: World) -> None:
        campaigns, account = world.campaigns, world.account
        first = campaigns.create(account, world.command(), "api", idempotency_key="k1")
        again = campaigns.create(account, world.command(), "api", idempotency_key="k1")
        assert (again.campaign_id, again.created) == (first.campaign_id, False)
        with pytest.raises(Conflict):
            campaigns.create(account, world.command(name="Other"), "api", idempotency_key="k1")

    def test_a_number_of_another_agent_cannot_be_used(self, world: World) -> None:
        campaigns, account = world.campaigns, world.account
        other = ids.public_id(
            ids.AGENT, campaigns.directory.create_agent(account, CreateAgent("B", ""))
        )
        with pytest.raises(ValidationFailed) as error:
            campaigns.create(account, world.command(agent_id=other), "api")
        assert problems(error) == [("from_number", "unknown_from_number")]
