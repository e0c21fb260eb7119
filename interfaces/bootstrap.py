"""The composition root: builds the event store, read models and use cases from settings.

`create_app()`, the CLI, the dispatcher and the tests all assemble Herald here.
"""

from dataclasses import dataclass
from datetime import timedelta

from psycopg_pool import ConnectionPool

from application.callbacks import StatusCallbacks
from application.campaigns import Campaigns
from application.consents import Consents
from application.directory import Directory
from application.dispatch import DispatchConfig, Dispatching
from application.ports import Clock, SystemClock
from application.sms import SingleSms
from application.store import EventStore
from interfaces.callback_batcher import CallbackBatcher
from interfaces.database import database_url, eventsourcing_env
from interfaces.event_store import PostgresEventStore
from interfaces.settings import Settings
from interfaces.twilio_credentials import TwilioCredentials
from interfaces.twilio_gateway import TwilioGateway
from projections.projector import Projector, create_schema
from projections.queries import Queries
from projections.work_queue import WorkQueue


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
    work_queue: WorkQueue
    twilio_credentials: TwilioCredentials
    gateway: TwilioGateway
    status_callbacks: CallbackBatcher

    def dispatcher(self, **config: object) -> Dispatching:
        settings = self.settings
        options: dict[str, object] = {
            "public_url": settings.public_url,
            "workers": settings.dispatch_workers,
            "attempt_timeout": settings.attempt_timeout,
            "lease": settings.dispatch_lease,
            **config,
        }
        return Dispatching(
            self.store,
            self.projector,
            self.work_queue,
            self.gateway,
            self.campaigns,
            self.clock,
            DispatchConfig(**options),  # type: ignore[arg-type]
        )

    def close(self) -> None:
        self.work_queue.close()
        self.pool.close()
        self.store.close()


def bootstrap(settings: Settings, clock: Clock | None = None) -> Herald:
    clock = clock or SystemClock(timedelta(seconds=settings.clock_offset))
    url = database_url(settings.database_url, settings.data_dir)
    store = PostgresEventStore(env=eventsourcing_env(url, settings.db_pool_size))
    pool = ConnectionPool(
        url, min_size=1, max_size=settings.db_pool_size, open=True, name="herald-read-models"
    )
    with pool.connection() as conn:
        create_schema(conn)
    projector = Projector(pool, store, events_table="herald_events")
    credentials = TwilioCredentials(pool, settings.twilio_account_sid, settings.twilio_auth_token)
    directory = Directory(store, projector, secrets=credentials)
    policy = settings.policy
    work_queue = WorkQueue(pool, url)
    return Herald(
        settings=settings,
        url=url,
        store=store,
        pool=pool,
        projector=projector,
        queries=Queries(pool, policy.price_per_segment, policy.currency),
        directory=directory,
        campaigns=Campaigns(store, projector, directory, clock, policy, locks=work_queue),
        sms=SingleSms(store, projector, directory, clock, policy),
        consents=Consents(store, projector, clock),
        clock=clock,
        work_queue=work_queue,
        twilio_credentials=credentials,
        gateway=TwilioGateway(credentials, settings.twilio_api_base_url),
        status_callbacks=CallbackBatcher(StatusCallbacks(store, clock)),
    )
