"""The campaign use cases on eventsourcing's in-memory store, with fake read models."""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from freezegun import freeze_time

from application.campaigns import Campaigns, CreateCampaign, RecipientIn
from application.directory import AddNumber, CreateAgent, Directory
from application.errors import Conflict, ValidationFailed
from application.policy import Policy
from application.ports import SystemClock
from application.store import EventStore
from domain import ids
from domain.campaign import Campaign, RecipientBatch

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


class FakeReadModels:
    def __init__(self) -> None:
        self.opted: set[str] = set()

    def catch_up(self, until: int | None = None) -> None:
        pass

    def opted_out(self, account_id: UUID, phones: Iterable[str]) -> set[str]:
        return {p for p in phones if p in self.opted}


@pytest.fixture
def world() -> tuple[Campaigns, UUID, str]:
    store = EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    read_models = FakeReadModels()
    directory = Directory(store, read_models)
    account = directory.create_account("Acme")
    agent = ids.public_id(ids.AGENT, directory.create_agent(account, CreateAgent("R", "p")))
    directory.add_number(account, AddNumber("+447446466847", agent, 1))
    campaigns = Campaigns(store, read_models, directory, SystemClock(), Policy(max_recipients=5))
    return campaigns, account, agent


def command(agent: str, **changes: object) -> CreateCampaign:
    fields: dict[str, object] = {
        "agent_id": agent,
        "name": "March",
        "message_template": "Hi {{first_name}}",
        "recipients": [RecipientIn("+447111000001", {"first_name": "Sarah"})],
        "from_number": "+447446466847",
    }
    fields.update(changes)
    return CreateCampaign(**fields)  # type: ignore[arg-type]


def problems(error: pytest.ExceptionInfo[ValidationFailed]) -> list[tuple[str, str]]:
    return [(d["field"], d["code"]) for d in error.value.details]


def test_creates_the_campaign_and_its_recipient_batch_together(world) -> None:
    campaigns, account, agent = world
    created = campaigns.create(account, command(agent), source="api")
    campaign = campaigns.store.repository.get(created.campaign_id)
    assert isinstance(campaign, Campaign)
    batch = campaigns.store.repository.get(campaign.batch_ids()[0])
    assert isinstance(batch, RecipientBatch) and batch.size == 1


@freeze_time(NOW)
def test_lists_every_problem_at_once(world) -> None:
    campaigns, account, _agent = world
    bad = command(
        "agent_" + "0" * 32,
        from_number="+447446400099",
        name=" ",
        schedule_type="schedule",
        scheduled_at=NOW - timedelta(minutes=1),
        recipients=[RecipientIn("nope"), RecipientIn("+14155552671"), RecipientIn("+447111000001")],
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


def test_schedule_needs_a_time_zone_aware_time(world) -> None:
    campaigns, account, agent = world
    for scheduled_at, code in [(None, "required"), (datetime(2099, 1, 1), "invalid_datetime")]:
        with pytest.raises(ValidationFailed) as error:
            campaigns.create(
                account, command(agent, schedule_type="schedule", scheduled_at=scheduled_at), "api"
            )
        assert problems(error) == [("scheduled_at", code)]


def test_on_invalid_skip_keeps_the_valid_recipients(world) -> None:
    campaigns, account, agent = world
    recipients = [RecipientIn("bad"), RecipientIn("+447111000002")]
    created = campaigns.create(
        account, command(agent, recipients=recipients, on_invalid="skip"), "api"
    )
    campaign = campaigns.store.repository.get(created.campaign_id)
    assert campaign.recipient_count == 1


def test_more_recipients_than_the_maximum_is_refused(world) -> None:
    campaigns, account, agent = world
    recipients = [RecipientIn(f"+44711100000{i}") for i in range(6)]
    with pytest.raises(ValidationFailed) as error:
        campaigns.create(account, command(agent, recipients=recipients), "api")
    assert problems(error) == [("recipients", "too_many_recipients")]


def test_same_idempotency_key_and_body_give_the_same_campaign(world) -> None:
    campaigns, account, agent = world
    first = campaigns.create(account, command(agent), "api", idempotency_key="k1")
    again = campaigns.create(account, command(agent), "api", idempotency_key="k1")
    assert (again.campaign_id, again.created) == (first.campaign_id, False)
    with pytest.raises(Conflict):
        campaigns.create(account, command(agent, name="Other"), "api", idempotency_key="k1")


def test_a_number_of_another_agent_cannot_be_used(world) -> None:
    campaigns, account, _agent = world
    other = ids.public_id(
        ids.AGENT, campaigns.directory.create_agent(account, CreateAgent("B", ""))
    )
    with pytest.raises(ValidationFailed) as error:
        campaigns.create(account, command(other), "api")
    assert problems(error) == [("from_number", "unknown_from_number")]
