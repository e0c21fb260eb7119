"""Consent: one aggregate per (account, phone), its history of opt-ins and opt-outs.

Its events are the consent record an auditor replays, each complete on its own (account,
phone, source, evidence, time):
- `OptedIn`: a first opt-in record, or a new one while opted in (an import, say), with
  where it came from (`source`: "import", "sms", "api"…), its evidence and when it was given;
- `OptedOut`: the keyword (STOP…, or "21610" when Twilio refused a send), `source` ("sms",
  "twilio"…), its evidence (the inbound MessageSid for an SMS) and when;
- `OptedBackIn`: an opt-in while opted out (START, UNSTOP, YES; or an import), told apart
  from a first opt-in. Events recorded before it existed are `OptedIn` after an
  `OptedOut`: the aggregate's state reads them the same way.

Which sends a consent allows is decided here once (`refusal`), for single sends, campaign
creation and the dispatcher alike.
"""

import re
from datetime import UTC, datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

OPTED_OUT = "recipient_opted_out"
WITHOUT_OPT_IN = "recipient_without_opt_in"
REFUSED = {  # each refusal, said to the sender
    OPTED_OUT: "has opted out of your messages",
    WITHOUT_OPT_IN: "has no opt-in record, which your account requires",
}


# An imported opt-in's time: RFC 3339 with its offset, ASCII digits only.
RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def opt_in_time(text: str, now: datetime) -> datetime | str:
    """When an imported opt-in was given, or why `text` cannot say: RFC 3339 with an offset,
    representable in UTC, not after `now`."""
    if RFC3339.fullmatch(text) is None:
        return "must be an RFC 3339 time with its offset, e.g. 2026-03-01T09:30:00Z"
    try:
        at = datetime.fromisoformat(text.replace("z", "Z").replace("t", "T"))
        at.astimezone(UTC)
    except (ValueError, OverflowError):
        return "is not a valid time, or not one that can be stored"
    if at > now:
        return "must not be in the future"
    return at


def consent_id(account_id: UUID, phone: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"herald:consent:{account_id}:{phone}")


def refusal(opted_out: bool, has_opt_in: bool, require_opt_in: bool) -> str | None:
    """Why nothing may be sent to a phone with this consent, if nothing may: opted out
    (always), or no opt-in record held while the account requires one."""
    if opted_out:
        return OPTED_OUT
    if require_opt_in and not has_opt_in:
        return WITHOUT_OPT_IN
    return None


class Consent(Aggregate):
    @event("Started")
    def __init__(self, account_id: UUID, phone: str) -> None:
        self.account_id = account_id
        self.phone = phone
        self.opted_out = False
        self.has_opt_in = False  # an opt-in record held now (none since the last opt-out)
        self.opted_in_at: datetime | None = None  # the opt-in held now, or the last one
        self.opt_in_source: str | None = None
        self.opt_in_evidence: str | None = None
        self.opted_out_at: datetime | None = None  # the last opt-out
        self.last_keyword: str | None = None
        self.opt_outs = 0
        self.opt_ins = 0

    @staticmethod
    def create_id(account_id: UUID, phone: str) -> UUID:
        return consent_id(account_id, phone)

    def opt_out(self, keyword: str, source: str, evidence: str, at: datetime) -> None:
        """Recorded every time, opted out already or not: each STOP is evidence."""
        # Each event names its account and phone, so an auditor reads it on its own.
        self._opted_out(self.account_id, self.phone, keyword, source, evidence, at)

    @event("OptedOut")
    def _opted_out(
        self, account_id: UUID, phone: str, keyword: str, source: str, evidence: str, at: datetime
    ) -> None:
        self.opted_out = True
        self.has_opt_in = False
        self.opted_out_at = at
        self.last_keyword = keyword
        self.opt_outs += 1

    def opt_in(self, source: str, evidence: str, at: datetime) -> None:
        """An opt-in record: back in when opted out, a (first or further) opt-in otherwise."""
        if self.opted_out:
            self._opted_back_in(self.account_id, self.phone, source, evidence, at)
        else:
            self._opted_in(self.account_id, self.phone, source, evidence, at)

    @event("OptedIn")
    def _opted_in(
        self, account_id: UUID, phone: str, source: str, evidence: str, at: datetime
    ) -> None:
        self._hold_opt_in(source, evidence, at)

    @event("OptedBackIn")
    def _opted_back_in(
        self, account_id: UUID, phone: str, source: str, evidence: str, at: datetime
    ) -> None:
        self._hold_opt_in(source, evidence, at)

    def _hold_opt_in(self, source: str, evidence: str, at: datetime) -> None:
        self.opted_out = False
        self.has_opt_in = True
        self.opted_in_at = at
        self.opt_in_source = source
        self.opt_in_evidence = evidence
        self.opt_ins += 1
