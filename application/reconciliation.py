"""Reconciliation: attempts whose answer was never recorded (the process died, or Twilio's
answer was uncertain) are looked up in Twilio's list, then queued or freed to go again."""

from collections.abc import Callable
from datetime import timedelta
from uuid import UUID

import structlog

from application.dispatch_queue import DispatchQueue
from application.ports import Clock, ReadModels, SmsGateway
from application.store import EventStore, IntegrityError
from domain.answers import lookup_since, needs_lookup, record_lookup
from domain.message import Message

log = structlog.get_logger()


class Reconciliation:
    def __init__(
        self,
        store: EventStore,
        read_models: ReadModels,
        work: DispatchQueue,
        gateway: SmsGateway,
        clock: Clock,
        name: str,
        attempt_timeout: float,
        uncertain_delay: float,
    ) -> None:
        self.store = store
        self.read_models = read_models
        self.work = work
        self.gateway = gateway
        self.clock = clock
        self.name = name
        self.attempt_timeout = attempt_timeout
        self.uncertain_delay = uncertain_delay

    def reconcile(self, not_held: Callable[[list[UUID]], list[UUID]] = list) -> int:
        """Look up attempts unanswered for too long, but those `not_held` leaves out (this
        dispatcher holds them: late, never lost); queue them or free them. How many."""
        now = self.clock.now()
        stale = self.work.stale_attempts(
            now - timedelta(seconds=self.attempt_timeout),
            now - timedelta(seconds=self.uncertain_delay),
            limit=500,
            me=self.name,
        )
        changed: list[Message] = []
        for message_id in not_held(stale):
            message = self.store.find(Message, message_id)
            if message is None or not needs_lookup(message):
                continue
            try:
                sid = self.gateway.find(
                    message.account_id,
                    message.to,
                    message.from_number,
                    message.body,
                    since=lookup_since(message),
                )
            except Exception:
                log.exception("reconcile_lookup_failed", message_id=str(message.id))
                continue
            record_lookup(message, sid, now)
            changed.append(message)
        if changed:
            try:
                self.read_models.catch_up(until=self.store.record(*changed))
            except IntegrityError:
                self.read_models.catch_up()
        return len(changed)
