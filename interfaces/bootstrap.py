"""The composition root: `bootstrap(settings, clock=…, **overrides)` assembles Herald.

`create_app()`, the CLI, the dispatcher, the benches and the tests all build Herald here,
and only here. Each part is built on first use, so a command builds what it needs and
nothing more (`herald accounts create` opens no Twilio client, starts no batcher).
Overrides replace a part by name before anything is built: `gateway=FakeSmsGateway()`,
`clock=FixedClock(...)`, or, for a second Herald over the same database,
`store=`, `pool=` and `projector=` of a first one. Parts given as overrides are the
giver's to close.

The database's schemas (read models, the dispatcher's lanes, the Twilio secrets) are made
once per process and database, when the pool is first opened.
"""

import threading
from datetime import timedelta
from functools import cached_property
from typing import Any

from psycopg_pool import ConnectionPool

from application.audit import Audit
from application.callbacks import StatusCallbacks
from application.campaigns import Campaigns
from application.consents import Consents
from application.directory import Directory
from application.dispatch import DispatchConfig, Dispatching
from application.inbound import Inbound
from application.ports import (
    CampaignLocks,
    Clock,
    ReadModels,
    ReplyQueue,
    Responder,
    SmsGateway,
    SystemClock,
    TwilioSecrets,
)
from application.replies import Replies
from application.sms import SingleSms
from application.store import EventStore
from interfaces.callback_batcher import CallbackBatcher
from interfaces.database import database_url, eventsourcing_env
from interfaces.event_store import PostgresEventStore
from interfaces.responders import OpenAIResponder, Responders, WebhookResponder
from interfaces.settings import Settings
from interfaces.twilio_credentials import SCHEMA as SECRETS_SCHEMA
from interfaces.twilio_credentials import TwilioCredentials
from interfaces.twilio_gateway import TwilioGateway
from projections.audit import AuditQueries
from projections.conversations import ConversationQueries
from projections.projector import SCHEMA_LOCK_KEY, Projector, create_schema
from projections.queries import Queries
from projections.reply_queue import PostgresReplyQueue
from projections.work_queue import SCHEMA as DISPATCH_SCHEMA
from projections.work_queue import WorkQueue

_schemas_made: set[str] = set()
_schemas_lock = threading.Lock()


def create_schemas(pool: ConnectionPool, url: str) -> None:
    """Every table Herald uses, made if missing: once per process and database."""
    with _schemas_lock:
        if url in _schemas_made:
            return
        with pool.connection() as conn:
            create_schema(conn)
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
                conn.execute(DISPATCH_SCHEMA)  # type: ignore[arg-type]
                conn.execute(SECRETS_SCHEMA)  # type: ignore[arg-type]
        _schemas_made.add(url)


class Herald:
    """Herald's parts, each built from the settings when first asked for. Build them from
    one thread (a process's start): the API and the dispatcher take theirs as they start."""

    def __init__(self, settings: Settings, **overrides: Any) -> None:
        self.settings = settings
        unknown = [name for name in overrides if not isinstance(_part(name), cached_property)]
        if unknown:
            raise TypeError(f"bootstrap() has no part named {', '.join(unknown)}")
        self._given = set(overrides)
        # A cached_property reads the instance's dict first: an override is "already built".
        self.__dict__.update(overrides)

    # Infrastructure.

    @cached_property
    def clock(self) -> Clock:
        return SystemClock(timedelta(seconds=self.settings.clock_offset))

    @cached_property
    def url(self) -> str:
        """The database's URL (starting the embedded PostgreSQL when none is set)."""
        return database_url(self.settings.database_url, self.settings.data_dir)

    @cached_property
    def store(self) -> EventStore:
        return PostgresEventStore(env=eventsourcing_env(self.url, self.settings.db_pool_size))

    @cached_property
    def pool(self) -> ConnectionPool:
        pool = ConnectionPool(
            self.url,
            min_size=1,
            max_size=self.settings.db_pool_size,
            open=True,
            name="herald-read-models",
        )
        create_schemas(pool, self.url)
        return pool

    @cached_property
    def projector(self) -> Projector:
        return Projector(self.pool, self.store, events_table="herald_events")

    @cached_property
    def read_models(self) -> ReadModels:
        """What the use cases read from the projections."""
        return self.projector

    @cached_property
    def queries(self) -> Queries:
        policy = self.settings.policy
        return Queries(self.pool, policy.price_per_segment, policy.currency)

    @cached_property
    def work_queue(self) -> WorkQueue:
        return WorkQueue(self.pool, self.url)

    @cached_property
    def campaign_locks(self) -> CampaignLocks:
        return self.work_queue

    @cached_property
    def twilio_credentials(self) -> TwilioCredentials:
        settings = self.settings
        return TwilioCredentials(self.pool, settings.twilio_account_sid, settings.twilio_auth_token)

    @cached_property
    def secrets(self) -> TwilioSecrets:
        return self.twilio_credentials

    @cached_property
    def gateway(self) -> SmsGateway:
        return TwilioGateway(self.twilio_credentials, self.settings.twilio_api_base_url)

    # Use cases.

    @cached_property
    def directory(self) -> Directory:
        return Directory(self.store, self.read_models, secrets=self.secrets)

    @cached_property
    def campaigns(self) -> Campaigns:
        return Campaigns(
            self.store,
            self.read_models,
            self.directory,
            self.clock,
            self.settings.policy,
            locks=self.campaign_locks,
        )

    @cached_property
    def sms(self) -> SingleSms:
        return SingleSms(
            self.store, self.read_models, self.directory, self.clock, self.settings.policy
        )

    @cached_property
    def conversations(self) -> ConversationQueries:
        return ConversationQueries(self.pool)

    @cached_property
    def inbound(self) -> Inbound:
        return Inbound(
            self.store,
            self.read_models,
            self.conversations,
            self.sms,
            self.clock,
            locks=self.campaign_locks,
        )

    @cached_property
    def consents(self) -> Consents:
        return Consents(
            self.store,
            self.read_models,
            self.clock,
            locks=self.campaign_locks,
            policy=self.settings.policy,
        )

    @cached_property
    def audit(self) -> Audit:
        return Audit(self.store, AuditQueries(self.pool), self.clock)

    @cached_property
    def status_callbacks(self) -> CallbackBatcher:
        return CallbackBatcher(StatusCallbacks(self.store, self.clock))

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
            self.read_models,
            self.work_queue,
            self.gateway,
            self.campaigns,
            self.clock,
            DispatchConfig(**options),  # type: ignore[arg-type]
        )

    @cached_property
    def responder(self) -> Responder:
        settings = self.settings
        timeout = settings.responder_timeout
        return Responders(
            WebhookResponder(timeout),
            OpenAIResponder(
                settings.openai_base_url, settings.openai_model, settings.openai_api_key, timeout
            ),
        )

    @cached_property
    def reply_queue(self) -> ReplyQueue:
        return PostgresReplyQueue(self.pool)

    def replies(self, name: str) -> Replies:
        """The reply worker's use cases, for the dispatcher called `name`."""
        # Well past the longest a responder can take: its outcome is never coming.
        abandon_after = timedelta(seconds=3 * self.settings.responder_timeout + 30)
        return Replies(
            self.store,
            self.read_models,
            self.reply_queue,
            self.responder,
            self.sms,
            self.clock,
            name,
            abandon_after,
        )

    def close(self) -> None:
        """Close what this Herald opened (not the parts it was given)."""
        for name in ("responder", "work_queue", "pool", "store"):
            if name in self.__dict__ and name not in self._given:
                self.__dict__[name].close()


def _part(name: str) -> object:
    return Herald.__dict__.get(name)


def bootstrap(settings: Settings, clock: Clock | None = None, **overrides: Any) -> Herald:
    """Herald from `settings`, with `overrides` (a clock, a gateway, a store…) in place of
    the parts it would build."""
    if clock is not None:
        overrides["clock"] = clock
    return Herald(settings, **overrides)
