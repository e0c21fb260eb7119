"""The composition root: builds the event store, read models and use cases from settings.

`create_app()`, the CLI, the dispatcher and the tests all assemble Herald here.
"""

from dataclasses import dataclass

from psycopg_pool import ConnectionPool

from application.campaigns import Campaigns
from application.consents import Consents
from application.directory import Directory
from application.ports import Clock, SystemClock
from application.sms import SingleSms
from application.store import EventStore
from interfaces.database import database_url, eventsourcing_env
from interfaces.settings import Settings
from projections.projector import Projector, create_schema
from projections.queries import Queries


@dataclass
class Herald:
    settings: Settings
    url: str
    store: EventStore
    pool: ConnectionPool
    projector: Projector
    queries: Queries
    directory: Directory
    campaigns: Campaigns
    sms: SingleSms
    consents: Consents
    clock: Clock

    def close(self) -> None:
        self.pool.close()
        self.store.close()


def bootstrap(settings: Settings, clock: Clock | None = None) -> Herald:
    clock = clock or SystemClock()
    url = database_url(settings.database_url, settings.data_dir)
    store = EventStore(env=eventsourcing_env(url, settings.db_pool_size))
    pool = ConnectionPool(
        url, min_size=1, max_size=settings.db_pool_size, open=True, name="herald-read-models"
    )
    with pool.connection() as conn:
        create_schema(conn)
    projector = Projector(pool, store, events_table="herald_events")
    directory = Directory(store, projector)
    policy = settings.policy
    return Herald(
        settings=settings,
        url=url,
        store=store,
        pool=pool,
        projector=projector,
        queries=Queries(pool, policy.price_per_segment, policy.currency),
        directory=directory,
        campaigns=Campaigns(store, projector, directory, clock, policy),
        sms=SingleSms(store, projector, directory, clock, policy),
        consents=Consents(store, projector, clock),
        clock=clock,
    )
