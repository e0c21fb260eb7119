"""Integration fixtures: Herald bootstrapped on the session's real PostgreSQL."""

from collections.abc import Iterator
from uuid import UUID

import pytest
from litestar.testing import TestClient

from application.directory import AddNumber, CreateAgent
from domain import ids
from interfaces.api.app import create_app
from interfaces.bootstrap import Herald, bootstrap
from interfaces.settings import Settings


@pytest.fixture(scope="session")
def herald(database_url: str) -> Iterator[Herald]:
    app = bootstrap(Settings(database_url=database_url))
    yield app
    app.close()


class Tenant:
    """A fresh account with an agent and one sender number, so tests never share state."""

    counter = 0

    def __init__(self, herald: Herald) -> None:
        Tenant.counter += 1
        self.account_id: UUID = herald.directory.create_account(f"tenant {Tenant.counter}")
        self.key = herald.directory.create_key(self.account_id)
        agent = herald.directory.create_agent(self.account_id, CreateAgent("Reception", "Be kind."))
        self.agent_id = ids.public_id(ids.AGENT, agent)
        self.from_number = f"+4474464{Tenant.counter:05d}"
        herald.directory.add_number(self.account_id, AddNumber(self.from_number, self.agent_id, 5))
        self.headers = {"Authorization": f"Bearer {self.key}"}


@pytest.fixture
def tenant(herald: Herald) -> Tenant:
    return Tenant(herald)


@pytest.fixture(scope="session")
def client(herald: Herald) -> Iterator[TestClient]:  # type: ignore[type-arg]
    with TestClient(create_app(herald, follow_projection=False)) as test_client:
        yield test_client


def campaign_body(tenant: Tenant, **changes: object) -> dict[str, object]:
    """The seed's example campaign, sent from the tenant's agent and number."""
    body: dict[str, object] = {
        "agent_id": tenant.agent_id,
        "from_number": tenant.from_number,
        "name": "March promotion",
        "message_template": "Hi {{first_name}}, Acme Dental offering 20% off cleanings this"
        " month. Reply YES to book.",
        "recipients": [
            {"phone": "+447111000001", "variables": {"first_name": "Sarah"}},
            {"phone": "+447111000002", "variables": {"first_name": "James"}},
        ],
        "schedule_type": "now",
    }
    body.update(changes)
    return body
