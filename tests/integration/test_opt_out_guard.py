"""Many opt-outs of one account at once, while a dispatcher has submissions of it planned:
each waits for the account's guard without holding a pooled connection, so the one that
gets the guard can still catch the read models up. (Fifteen STOPs at once used to take
every connection of the pool while they waited, and the pool's 30 s timeout ended it.)"""

import threading
import time
from collections.abc import Iterator

import pytest
from psycopg_pool import ConnectionPool

from interfaces.bootstrap import Herald, bootstrap
from interfaces.settings import Settings
from projections.work_queue import WorkQueue
from tests.conftest import CLOCK_OFFSET
from tests.integration.conftest import Tenant

POOL = 4
STOPS = 12


@pytest.fixture
def small_pool(database_url: str) -> Iterator[Herald]:
    herald = bootstrap(
        Settings(database_url=database_url, clock_offset=CLOCK_OFFSET, db_pool_size=POOL)
    )
    yield herald
    herald.close()


def test_many_opt_outs_of_one_account_at_once_leave_the_pool_room(
    small_pool: Herald, database_url: str
) -> None:
    tenant = Tenant(small_pool)
    with ConnectionPool(database_url, min_size=1, max_size=2) as dispatcher_pool:
        dispatcher = WorkQueue(dispatcher_pool, database_url)
        assert dispatcher.hold_account(tenant.account_id)  # submissions of the account planned
        phones = [f"+4471110007{n:02d}" for n in range(STOPS)]
        errors: list[Exception] = []

        def stop(phone: str) -> None:
            try:
                small_pool.consents.opt_out(tenant.account_id, phone, "STOP", "sms", "SMpool")
            except Exception as error:
                errors.append(error)

        threads = [threading.Thread(target=stop, args=(phone,)) for phone in phones]
        for thread in threads:
            thread.start()
        time.sleep(1.0)  # every opt-out now waits for the planned submissions
        assert small_pool.read_models.opted_out(tenant.account_id, phones) == set()
        dispatcher.let_go_account(tenant.account_id)  # answered: the opt-outs go on
        started = time.monotonic()
        for thread in threads:
            thread.join(90)
        dispatcher.close()
    print(
        f"{STOPS} opt-outs of one account at once on a pool of {POOL}: all recorded"
        f" {time.monotonic() - started:.2f} s after the dispatcher let go"
    )
    assert errors == []
    assert small_pool.read_models.opted_out(tenant.account_id, phones) == set(phones)
