"""Integration fixtures: Herald bootstrapped on the session's real PostgreSQL."""

import time
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

import httpx
import pytest
from litestar.testing import TestClient

from application.directory import AddNumber, CreateAgent
from application.ports import Clock
from domain import ids
from interfaces.api.app import create_app
from interfaces.bootstrap import Herald, bootstrap
from interfaces.settings import SIMULATOR_ACCOUNT_SID, SIMULATOR_AUTH_TOKEN, Settings
from tests.conftest import CLOCK_OFFSET

# A second Twilio account the simulator knows, for accounts with credentials of their own.
OTHER_TWILIO_SID = "AC" + "1" * 32
OTHER_TWILIO_TOKEN = "other-auth-token"


@pytest.fixture(scope="session")
def herald(database_url: str) -> Iterator[Herald]:
    app = bootstrap(Settings(database_url=database_url, clock_offset=CLOCK_OFFSET))
    yield app
    app.close()


def sharing(herald: Herald, settings: Settings | None = None, **overrides: object) -> Herald:
    """A Herald built by `bootstrap` with other settings or parts (a clock, a gateway), over
    the same database connections as `herald` (which keeps them: close it, not this one)."""
    shared = {
        name: getattr(herald, name)
        for name in ("url", "store", "pool", "projector", "work_queue", "twilio_credentials")
    }
    return bootstrap(settings or herald.settings, **{**shared, **overrides})


class Tenant:
    """A fresh account with an agent and one sender number, so tests never share state."""

    counter = 0

    def __init__(self, herald: Herald, quiet_hours: tuple[str, str] | None = None) -> None:
        Tenant.counter += 1
        self.account_id: UUID = herald.directory.create_account(f"tenant {Tenant.counter}")
        # An explicit policy (off unless a test asks for a window), so that what a test sends
        # never depends on the hour it runs at.
        herald.directory.set_quiet_hours(self.account_id, quiet_hours)
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


class SendingWorld:
    """Herald's API and a dispatcher, both sending to the Twilio simulator over HTTP."""

    def __init__(
        self,
        database_url: str,
        clock: Clock | None = None,
        allowed_countries: frozenset[str] = frozenset({"GB"}),
        settings: dict[str, object] | None = None,
        **dispatch: object,
    ) -> None:
        """`settings`: more Settings fields (the responders' endpoint and timeout…)."""
        from interfaces.dispatcher import DispatcherProcess
        from interfaces.server import listen, serve_in_thread, start_simulator_in_thread
        from simulator import SimulatorConfig

        accounts = {
            SIMULATOR_ACCOUNT_SID: SIMULATOR_AUTH_TOKEN,
            OTHER_TWILIO_SID: OTHER_TWILIO_TOKEN,
        }
        self.sim = start_simulator_in_thread(
            SimulatorConfig(accounts=accounts, sent_delay=0.01, final_delay=0.02)
        )
        port = listen("127.0.0.1", 0).getsockname()[1]
        configured = Settings(
            database_url=database_url,
            twilio_api_base_url=self.sim.url,
            public_url=f"http://127.0.0.1:{port}",
            allowed_countries=allowed_countries,
            clock_offset=CLOCK_OFFSET,
        ).with_(**(settings or {}))
        self.herald = bootstrap(configured, clock=clock)
        self.api = serve_in_thread(create_app(self.herald), port=port)
        options: dict[str, object] = {"lease": 2.0, "attempt_timeout": 3.0, "uncertain_delay": 0.5}
        options.update(dispatch)
        self.dispatcher = DispatcherProcess(self.herald, **options)
        self.dispatcher.start()

    def simulate(self, **options: object) -> None:
        httpx.post(f"{self.sim.url}/_sim/config", json=options).raise_for_status()

    def sent(self, from_number: str) -> list[dict[str, Any]]:
        """What the simulator received from one sender number, in order."""
        body = httpx.get(f"{self.sim.url}/_sim/messages").json()
        messages = body["messages"] if isinstance(body, dict) else body
        return [m for m in messages if m["from"] == from_number]

    def http(self, tenant: Tenant) -> httpx.Client:
        return httpx.Client(base_url=self.api.url, headers=tenant.headers, timeout=30)

    def stop_dispatching(self) -> None:
        """Nothing more is sent or recorded by this world (a test that needs a quiet log)."""
        if not self.dispatcher.stopped.is_set():
            self.dispatcher.stop()

    def close(self) -> None:
        self.stop_dispatching()
        self.api.stop()
        self.sim.stop()
        self.herald.close()


@pytest.fixture(scope="module")
def world(database_url: str) -> Iterator[SendingWorld]:
    sending = SendingWorld(database_url)
    yield sending
    sending.close()


@pytest.fixture
def sender(world: SendingWorld) -> Iterator[Tenant]:
    """A fresh tenant on the sending world, with the simulator back to its defaults."""
    httpx.post(f"{world.sim.url}/_sim/reset").raise_for_status()
    world.simulate(sent_delay=0.01, final_delay=0.02)
    yield Tenant(world.herald)


def wait_until(check: Callable[[], Any], timeout: float = 30, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout} s: {check}")
        time.sleep(every)
