"""bootstrap(): builds nothing until asked, and what it is given replaces what it would build."""

from datetime import UTC, datetime

import pytest

from application.store import EventStore
from interfaces.bootstrap import bootstrap
from interfaces.settings import Settings
from tests.conftest import NO_DATABASE, FakeSmsGateway, FixedClock, in_memory


def test_bootstrapping_opens_no_connection_until_a_part_is_asked_for() -> None:
    herald = bootstrap(Settings(database_url=NO_DATABASE))
    assert herald.settings.database_url == NO_DATABASE
    herald.close()  # nothing was opened, so nothing to close


def test_overrides_replace_the_parts_and_the_use_cases_are_built_on_them() -> None:
    gateway, clock = FakeSmsGateway(), FixedClock(datetime(2026, 11, 24, 10, tzinfo=UTC))
    herald = in_memory(gateway=gateway, clock=clock)
    assert herald.gateway is gateway
    assert herald.campaigns.clock is clock
    assert herald.campaigns.directory is herald.directory  # one of each part


def test_an_unknown_override_is_refused() -> None:
    with pytest.raises(TypeError, match="getway"):
        bootstrap(Settings(database_url=NO_DATABASE), getway=FakeSmsGateway())


def test_a_part_that_was_given_is_left_open_for_its_giver() -> None:
    store = EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    closed: list[str] = []
    store.close = lambda: closed.append("store")  # type: ignore[method-assign]
    in_memory(store=store).close()
    assert closed == []
