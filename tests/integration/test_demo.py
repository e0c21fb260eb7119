"""`herald up`'s demo tenant says when quiet hours hold its campaigns, whatever the hour."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from application.ports import SystemClock
from interfaces.bootstrap import Herald, bootstrap
from interfaces.database import create_database, drop_database
from interfaces.demo import demo_account, quiet_hours_notice
from interfaces.settings import Settings


@pytest.fixture
def fresh(database_url: str) -> Iterator[Herald]:
    """A database of its own: the demo tenant is made only where there is no account."""
    url = create_database(database_url, "herald_test_demo")
    herald = bootstrap(
        Settings(database_url=url),
        clock=SystemClock.starting_at(datetime(2026, 11, 27, 23, 30, tzinfo=UTC)),
    )
    yield herald
    herald.close()
    drop_database(database_url, "herald_test_demo")


def test_herald_up_in_quiet_hours_says_until_when_and_how_to_turn_them_off(fresh: Herald) -> None:
    demo = demo_account(fresh)
    assert demo is not None
    assert demo.quiet_hours_notice == (
        "Quiet hours (21:00-09:00 recipient time): campaigns to UK numbers wait until 09:00 GMT"
        f" (2026-11-28 09:00 UTC). To send now: herald accounts quiet-hours {demo.account_id} --off"
    )
    assert isinstance(fresh.clock, SystemClock)
    fresh.clock.offset = datetime(2026, 11, 27, 12, tzinfo=UTC) - datetime.now(UTC)
    account = fresh.queries.account_with_number("Demo", demo.from_number)
    assert account is not None
    assert quiet_hours_notice(fresh, account[0]) is None  # midday: nothing to say
