"""Consent use cases: recording opt-outs and opt-ins for an (account, phone)."""

from uuid import UUID

from application.ports import Clock, ReadModels
from application.store import EventStore
from domain.consent import Consent, consent_id


class Consents:
    def __init__(self, store: EventStore, read_models: ReadModels, clock: Clock) -> None:
        self.store = store
        self.read_models = read_models
        self.clock = clock

    def _consent(self, account_id: UUID, phone: str) -> Consent:
        found = self.store.find(Consent, consent_id(account_id, phone))
        return found or Consent(account_id=account_id, phone=phone)

    def opt_out(
        self, account_id: UUID, phone: str, keyword: str, source: str, evidence: str
    ) -> None:
        consent = self._consent(account_id, phone)
        consent.opt_out(keyword=keyword, source=source, evidence=evidence, at=self.clock.now())
        self.read_models.catch_up(until=self.store.record(consent))

    def opt_in(self, account_id: UUID, phone: str, source: str, evidence: str) -> None:
        consent = self._consent(account_id, phone)
        consent.opt_in(source=source, evidence=evidence, at=self.clock.now())
        self.read_models.catch_up(until=self.store.record(consent))
