"""Recording Twilio's answers to submissions: many in one transaction, one by one from fresh
aggregates when a status callback was recorded on one of them meanwhile."""

import random
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import structlog

from application.ports import Clock, ReadModels, SubmitOutcome
from application.store import EventStore, IntegrityError
from domain.answers import opt_out_on_submit, record_answer
from domain.consent import Consent, consent_id
from domain.message import AttemptState, Message

log = structlog.get_logger()

Answered = tuple[Message, SubmitOutcome]


class Answers:
    def __init__(
        self,
        store: EventStore,
        read_models: ReadModels,
        clock: Clock,
        max_attempts: int,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.read_models = read_models
        self.clock = clock
        self.max_attempts = max_attempts
        self.rng = rng or random.Random()

    def record(self, answered: Sequence[Answered], again: Sequence[Answered] = ()) -> int:
        """Record answers on the messages they came with, and answers whose recording
        failed before (`again`: their messages are spent, so each is loaded fresh); the
        log position reached."""
        now = self.clock.now()
        position = self._record_one_by_one(again, now) if again else 0
        if answered:
            aggregates: list[object] = []
            for message, outcome in answered:
                aggregates += self._apply(message, outcome, now)
            try:
                position = max(position, self.store.record(*aggregates))
            except IntegrityError:
                # A status callback was recorded on some message meanwhile: one by one.
                position = max(position, self._record_one_by_one(answered, now))
        return position

    def catch_up(self, position: int) -> None:
        self.read_models.catch_up(until=position)

    def _record_one_by_one(self, answered: Sequence[Answered], now: datetime) -> int:
        position = 0
        for message, outcome in answered:
            position = max(position, self._record_fresh(message.id, outcome, now))
        return position

    def _record_fresh(self, message_id: UUID, outcome: SubmitOutcome, now: datetime) -> int:
        for _ in range(5):
            message = self.store.get(Message, message_id)
            if message.attempt_state != AttemptState.IN_FLIGHT:
                return 0
            try:
                return self.store.record(*self._apply(message, outcome, now))
            except IntegrityError:
                continue
        log.error("record_gave_up", message_id=str(message_id))
        return 0

    def _apply(self, message: Message, outcome: SubmitOutcome, now: datetime) -> list[object]:
        changed: list[object] = [message]
        if record_answer(message, outcome, now, self.rng, self.max_attempts):
            changed.append(self._opt_out(message, now))
        return changed

    def _opt_out(self, message: Message, now: datetime) -> Consent:
        consent = self.store.find(Consent, consent_id(message.account_id, message.to))
        if consent is None:
            consent = Consent(account_id=message.account_id, phone=message.to)
        opt_out_on_submit(consent, now)
        return consent
