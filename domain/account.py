"""Accounts (tenants) and their API keys."""

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidTransition


class Account(Aggregate):
    @event("Created")
    def __init__(self, name: str) -> None:
        self.name = name
        self.twilio_account_sid: str | None = None

    @event("TwilioAccountSet")
    def use_twilio_account(self, account_sid: str) -> None:
        """The account sends through its own Twilio account (its token is kept elsewhere)."""
        self.twilio_account_sid = account_sid


class ApiKey(Aggregate):
    """An API key: only a hash of its secret is ever recorded."""

    @event("Created")
    def __init__(self, account_id: UUID, secret_hash: str) -> None:
        self.account_id = account_id
        self.secret_hash = secret_hash
        self.revoked = False

    def revoke(self) -> None:
        if self.revoked:
            raise InvalidTransition("key is already revoked")
        self._revoked()

    @event("Revoked")
    def _revoked(self) -> None:
        self.revoked = True
