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

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from application.errors import ValidationFailed, problem
from application.fields import text_problems
from application.policy import Policy
from application.ports import CampaignLocks, Clock, NoCampaignLocks, ReadModels
from application.store import EventStore
from domain.account import Account
from domain.consent import Consent, consent_id, opt_in_time
from domain.phone import PhoneValidator
from domain.text import escaped

MAX_IMPORT_ROWS = 5_000  # opt-ins per import: one transaction of up to 10,000 events, a few seconds
SOURCE_CHARS = 64
EVIDENCE_CHARS = 500


class OptInRow(msgspec.Struct, forbid_unknown_fields=True):
    """One opt-in to import: the phone, where the consent came from, its evidence (a form's
    id, a signed document's reference…) and when it was given (RFC 3339; default: now)."""

    phone: str
    source: str
    evidence: str
    opted_in_at: str | None = None


class Imported(msgspec.Struct):
    imported: int  # opt-in records made
    kept_opted_out: list[str]  # phones opted out: their STOP stands, no opt-in recorded


class ConsentEvent(msgspec.Struct):
    event: str  # opted_in, opted_back_in or opted_out
    at: datetime  # when it was given (an opt-in's time as imported) or recorded
    recorded_at: datetime
    source: str
    evidence: str  # an SMS's inbound MessageSid, an import's evidence…
    keyword: str | None = None  # an opt-out's (STOP…, or 21610)


class ConsentState(msgspec.Struct):
    phone: str
    opted_out: bool
    has_opt_in: bool  # an opt-in record held now
    opted_in_at: datetime | None
    opted_out_at: datetime | None
    history: list[ConsentEvent]  # in the order recorded


EVENT_NAMES = {
    "Consent.OptedIn": "opted_in",
    "Consent.OptedBackIn": "opted_back_in",
    "Consent.OptedOut": "opted_out",
}


class Consents:
    def __init__(
        self,
        store: EventStore,
        read_models: ReadModels,
        clock: Clock,
        locks: CampaignLocks | None = None,
        policy: Policy | None = None,
    ) -> None:
        self.store = store
        self.read_models = read_models
        self.clock = clock
        self.locks = locks or NoCampaignLocks()
        self.validator = PhoneValidator((policy or Policy()).allowed_regions)

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

    def require_opt_in(self, account_id: UUID, required: bool) -> None:
        """The account policy "require an opt-in record" (off by default), as an event."""
        account = self.store.get(Account, account_id, "account")
        account.require_opt_in(required)
        self.read_models.catch_up(until=self.store.record(account))

    def opt_in_required(self, account_id: UUID) -> bool:
        return self.store.get(Account, account_id, "account").opt_in_required

    def import_opt_ins(
        self,
        account_id: UUID,
        rows: Sequence[OptInRow],
        places: Sequence[str] | None = None,
        collection: str = "opt_ins",
    ) -> Imported:
        """Record every row's opt-in, all in one transaction, or none: every bad row is
        reported at once, each problem naming the row's place (`places[i]`, e.g. "line 7: "
        of a file; by default "opt_ins[i]."), the field and the value. A phone twice is a
        problem (whose evidence would be the record?). A phone that opted out keeps its
        opt-out: an import is no opt-in by the person, who opts back in by texting START."""
        errors = self.opt_in_problems(rows, places, collection)
        if errors:
            raise ValidationFailed(
                f"{len(errors)} problems in the opt-ins; nothing imported", errors
            )
        now = self.clock.now()
        # Which consents exist, in one query: only those are loaded, the rest are new.
        ids = {row.phone: consent_id(account_id, row.phone) for row in rows}
        existing = self.store.latest_versions(list(ids.values()), ":Consent.Started")
        consents, kept_opted_out = [], []
        for row in rows:
            found = None
            if ids[row.phone] in existing:
                found = self.store.find(Consent, ids[row.phone])
            consent = found or Consent(account_id=account_id, phone=row.phone)
            if consent.opted_out:
                kept_opted_out.append(row.phone)
                continue
            at = now if row.opted_in_at is None else opt_in_time(row.opted_in_at, now)
            assert isinstance(at, datetime)
            consent.opt_in(source=row.source, evidence=row.evidence, at=at)
            consents.append(consent)
        if consents:
            self.read_models.catch_up(until=self.store.record(*consents))
        return Imported(len(consents), kept_opted_out)

    def opt_in_problems(
        self,
        rows: Sequence[OptInRow],
        places: Sequence[str] | None = None,
        collection: str = "opt_ins",
    ) -> list[dict[str, Any]]:
        """Every problem an import would refuse the rows for; nothing is recorded."""
        where = list(places or [f"{collection}[{i}]." for i in range(len(rows))])
        if not rows:
            return [problem(collection, [], "required", "must list at least one opt-in")]
        if len(rows) > MAX_IMPORT_ROWS:
            return [
                problem(
                    collection,
                    f"{len(rows)} opt-ins",
                    "too_many_opt_ins",
                    f"at most {MAX_IMPORT_ROWS} per import: split it",
                )
            ]
        now = self.clock.now()
        errors: list[dict[str, Any]] = []
        seen: dict[str, str] = {}
        for at, row in zip(where, rows, strict=True):
            found = self.validator.problem(row.phone)
            if found is not None:
                errors.append(problem(f"{at}phone", escaped(row.phone), found.code, found.reason))
            elif row.phone in seen:
                first = seen[row.phone].rstrip(".: ")
                errors.append(
                    problem(
                        f"{at}phone",
                        row.phone,
                        "duplicate_phone",
                        f"is also at {first}: give each phone once",
                    )
                )
            else:
                seen[row.phone] = at
            errors += text_problems(f"{at}source", row.source, SOURCE_CHARS)
            errors += text_problems(f"{at}evidence", row.evidence, EVIDENCE_CHARS)
            if row.opted_in_at is not None:
                when = opt_in_time(row.opted_in_at, now)
                if isinstance(when, str):
                    shown = escaped(row.opted_in_at)
                    errors.append(problem(f"{at}opted_in_at", shown, "invalid_time", when))
        return errors

    def state(self, account_id: UUID, phone: str) -> ConsentState:
        """A phone's consent for the account now, and its history, from the event log."""
        found = self.validator.problem(phone)
        if found is not None:
            raise ValidationFailed(
                "invalid phone", [problem("phone", escaped(phone), found.code, found.reason)]
            )
        consent = self.store.find(Consent, consent_id(account_id, phone))
        if consent is None:
            return ConsentState(phone, False, False, None, None, [])
        history = []
        for recorded in self.store.events_of([consent.id]):
            event = recorded.event
            name = EVENT_NAMES.get(type(event).__qualname__)
            if name is None:
                continue
            history.append(
                ConsentEvent(
                    event=name,
                    at=event.at,
                    recorded_at=event.timestamp,
                    source=event.source,
                    evidence=event.evidence,
                    keyword=getattr(event, "keyword", None),
                )
            )
        return ConsentState(
            phone,
            consent.opted_out,
            consent.has_opt_in,
            consent.opted_in_at,
            consent.opted_out_at,
            history,
        )
