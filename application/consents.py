"""Consent use cases: recording opt-outs and opt-ins for an (account, phone).

Nothing goes to a phone once its opt-out is recorded. `opt_out` records it under the
account's guard taken exclusively (`CampaignLocks.exclusive_account`), and catches the read
models up before letting go. The dispatcher holds the same guard shared from before it
reads the consents to plan a submission of the account until that submission is answered
(application/planning.py). So the opt-out waits out every submission already planned (they
started before it committed: Twilio may have them) and, while it waits or records, no plan
of the account starts (a dispatcher that cannot take the guard plans nothing of the account
that round). A plan made after it reads the consents after the guard was let go, when the
read models already show the opt-out, and suppresses the phone's messages. Its `at` is read
once the guard is held, so the time recorded is after every submission it waited out.

Twilio's 21610 (application/answers.py) records its opt-out with the answer, not under the
guard: it would stall the recording of every answer behind the account's plans, and Twilio
refuses that phone's messages itself already.
"""

from uuid import UUID

from application.ports import CampaignLocks, Clock, NoCampaignLocks, ReadModels
from application.store import EventStore
from domain.consent import Consent, consent_id


class Consents:
    def __init__(
        self,
        store: EventStore,
        read_models: ReadModels,
        clock: Clock,
        locks: CampaignLocks | None = None,
    ) -> None:
        self.store = store
        self.read_models = read_models
        self.clock = clock
        self.locks = locks or NoCampaignLocks()

    def _consent(self, account_id: UUID, phone: str) -> Consent:
        found = self.store.find(Consent, consent_id(account_id, phone))
        return found or Consent(account_id=account_id, phone=phone)

    def opt_out(
        self, account_id: UUID, phone: str, keyword: str, source: str, evidence: str
    ) -> None:
        """Record an opt-out (`evidence`: the inbound MessageSid of a STOP). Once this
        returns, nothing more is submitted to `phone` for the account (see above)."""
        with self.locks.exclusive_account(account_id):
            consent = self._consent(account_id, phone)
            consent.opt_out(keyword=keyword, source=source, evidence=evidence, at=self.clock.now())
            self.read_models.catch_up(until=self.store.record(consent))

    def opt_in(self, account_id: UUID, phone: str, source: str, evidence: str) -> None:
        """Record an opt-in given now (a first one, or back in when opted out)."""
        consent = self._consent(account_id, phone)
        consent.opt_in(source=source, evidence=evidence, at=self.clock.now())
        self.read_models.catch_up(until=self.store.record(consent))
