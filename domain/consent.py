"""Consent: one aggregate per (account, phone), recording opt-outs and opt-ins with evidence."""

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event


def consent_id(account_id: UUID, phone: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"herald:consent:{account_id}:{phone}")


class Consent(Aggregate):
    @event("Started")
    def __init__(self, account_id: UUID, phone: str) -> None:
        self.account_id = account_id
        self.phone = phone
        self.opted_out = False

    @staticmethod
    def create_id(account_id: UUID, phone: str) -> UUID:
        return consent_id(account_id, phone)

    def opt_out(self, keyword: str, source: str, evidence: str, at: datetime) -> None:
        # Each event names its account and phone, so an auditor reads it on its own.
        self._opted_out(self.account_id, self.phone, keyword, source, evidence, at)

    @event("OptedOut")
    def _opted_out(
        self, account_id: UUID, phone: str, keyword: str, source: str, evidence: str, at: datetime
    ) -> None:
        self.opted_out = True

    def opt_in(self, source: str, evidence: str, at: datetime) -> None:
        self._opted_in(self.account_id, self.phone, source, evidence, at)

    @event("OptedIn")
    def _opted_in(
        self, account_id: UUID, phone: str, source: str, evidence: str, at: datetime
    ) -> None:
        self.opted_out = False
