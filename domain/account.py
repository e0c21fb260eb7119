"""Accounts (tenants) and their API keys."""

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidTransition
from domain.quiet_hours import DEFAULT_QUIET_HOURS, QuietHours


def default_help_text(account_name: str) -> str:
    """The answer to HELP until the account sets its own: who is writing, and how to stop."""
    return f"{account_name}: reply to this number to reach us. Reply STOP to opt out."


class Account(Aggregate):
    @event("Created")
    def __init__(self, name: str) -> None:
        self.name = name
        self.twilio_account_sid: str | None = None
        self.quiet_hours: QuietHours | None = DEFAULT_QUIET_HOURS
        self.opt_in_required = False
        self.help_text: str | None = None  # None: default_help_text(name)

    @event("QuietHoursSet")
    def set_quiet_hours(self, start: str | None, end: str | None) -> None:
        """The window ('HH:MM' in the recipient's local time) in which nothing is submitted;
        both None: off. Recorded at creation too, so history says which window held when."""
        self.quiet_hours = None if start is None or end is None else QuietHours.parse(start, end)

    @event("HelpTextSet")
    def set_help_text(self, text: str | None) -> None:
        """What a HELP or INFO message is answered with; None: the default."""
        self.help_text = text

    def answer_to_help(self) -> str:
        return self.help_text or default_help_text(self.name)

    @event("OptInRequirementSet")
    def require_opt_in(self, required: bool) -> None:
        """The policy "require an opt-in record" (off until recorded): when on, nothing is
        sent to a phone without one (domain.consent.refusal)."""
        self.opt_in_required = required

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
