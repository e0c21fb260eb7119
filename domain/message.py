"""The Message aggregate: one SMS to one phone, a single send or a campaign recipient's.

Its submission to Twilio is recorded before the call (`Attempted`), then its answer:
`Queued` (accepted, with the SID), `Rejected` (a final error), `Deferred` (certainly not
created, e.g. 429: try again later) or `Uncertain` (a 5xx or network error: it may have
been created, so Twilio's list is checked before any new attempt). Status callbacks are
all kept (`StatusReported`, with the Herald status each reports), but the status only
moves forward.
"""

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidTransition
from domain.sending import callback_status
from domain.status import RecipientStatus, moves_forward


def campaign_message_id(campaign_id: UUID, index: int, round_: int = 0) -> UUID:
    """A campaign recipient's message has an id known before it exists."""
    suffix = f":{round_}" if round_ else ""
    return uuid5(NAMESPACE_URL, f"herald:message:{campaign_id}:{index}{suffix}")


class AttemptState:
    NEW = "new"  # not yet submitted
    IN_FLIGHT = "in_flight"  # recorded as attempted; Twilio's answer not yet recorded
    RETRY = "retry"  # certainly not created; submit again from next_attempt_at
    UNCERTAIN = "uncertain"  # may have been created: look in Twilio before resubmitting
    DONE = "done"  # Twilio answered: queued or rejected


class Message(Aggregate):
    @event("Created")
    def __init__(
        self,
        id: UUID,
        account_id: UUID,
        agent_id: UUID,
        to: str,
        from_number: str,
        body: str,
        segments: int,
        encoding: str,
        created_at: datetime,
        campaign_id: UUID | None = None,
        recipient_index: int | None = None,
        not_before: datetime | None = None,
        attempted_by: str | None = None,
        quiet_hours_exempt_until: datetime | None = None,
    ) -> None:
        """`attempted_by`: a campaign recipient's message comes into being when a dispatcher
        first submits it, so its creation records that first attempt too.
        `quiet_hours_exempt_until`: an agent's answer to a reply goes at any hour until then
        (domain/replies.py)."""
        self.account_id = account_id
        self.to = to
        self.from_number = from_number
        self.body = body
        self.segments = segments
        self.campaign_id = campaign_id
        self.recipient_index = recipient_index
        self.status = RecipientStatus.PENDING
        self.attempt_state = AttemptState.IN_FLIGHT if attempted_by else AttemptState.NEW
        self.attempts = 1 if attempted_by else 0
        self.twilio_sid: str | None = None
        self.attempted_at = created_at
        self.not_before = not_before
        self.quiet_hours_exempt_until = quiet_hours_exempt_until

    def attempt(self, at: datetime, dispatcher: str) -> None:
        if self.attempt_state not in (AttemptState.NEW, AttemptState.RETRY):
            raise InvalidTransition(f"a message in state {self.attempt_state} cannot be submitted")
        self._attempted(attempt=self.attempts + 1, at=at, dispatcher=dispatcher)

    @event("Attempted")
    def _attempted(self, attempt: int, at: datetime, dispatcher: str) -> None:
        self.attempts = attempt
        self.attempted_at = at
        self.attempt_state = AttemptState.IN_FLIGHT

    @event("Queued")
    def queued(self, twilio_sid: str, at: datetime, found_by_reconciliation: bool = False) -> None:
        self.twilio_sid = twilio_sid
        self.attempt_state = AttemptState.DONE
        if moves_forward(self.status, RecipientStatus.QUEUED):
            self.status = RecipientStatus.QUEUED

    @event("Rejected")
    def rejected(self, error_code: int | None, error_message: str, at: datetime) -> None:
        self.attempt_state = AttemptState.DONE
        self.status = RecipientStatus.FAILED

    @event("Deferred")
    def deferred(
        self, reason: str, error_code: int | None, retry_at: datetime, at: datetime
    ) -> None:
        self.attempt_state = AttemptState.RETRY

    @event("Uncertain")
    def uncertain(self, reason: str, at: datetime) -> None:
        self.attempt_state = AttemptState.UNCERTAIN

    def suppress(self, reason: str, at: datetime) -> None:
        """Never to be submitted: its phone opted out after it was accepted (`reason`, a
        domain.consent refusal). Only before an attempt: one in flight is answered first."""
        if self.attempt_state not in (AttemptState.NEW, AttemptState.RETRY):
            raise InvalidTransition(f"a message in state {self.attempt_state} cannot be suppressed")
        self._suppressed(reason=reason, at=at)

    @event("Suppressed")
    def _suppressed(self, reason: str, at: datetime) -> None:
        self.attempt_state = AttemptState.DONE
        self.status = RecipientStatus.SUPPRESSED

    def status_reported(
        self,
        status: str,
        twilio_sid: str,
        error_code: int | None,
        error_message: str | None,
        at: datetime,
    ) -> None:
        """Every accepted callback is recorded, with the Herald status Twilio's `status`
        reports; only a later status changes the message."""
        self._status_reported(
            status=status,
            herald_status=callback_status(status).value,
            twilio_sid=twilio_sid,
            error_code=error_code,
            error_message=error_message,
            at=at,
        )

    @event("StatusReported")
    def _status_reported(
        self,
        status: str,
        herald_status: str,
        twilio_sid: str,
        error_code: int | None,
        error_message: str | None,
        at: datetime,
    ) -> None:
        if self.twilio_sid is None:
            self.twilio_sid = twilio_sid
        reported = RecipientStatus(herald_status)
        if moves_forward(self.status, reported):
            self.status = reported

    @classmethod
    def status_report(
        cls,
        message_id: UUID,
        after_version: int,
        status: str,
        twilio_sid: str,
        error_code: int | None,
        error_message: str | None,
        at: datetime,
    ) -> Aggregate.Event:
        """The StatusReported event that follows version `after_version`, made without
        loading the message: recording a callback does not depend on the message's state
        (only a later status changes it, which applying the event decides)."""
        event_class = cls.StatusReported  # type: ignore[attr-defined]
        event: Aggregate.Event = event_class(
            originator_id=message_id,
            originator_version=after_version + 1,
            timestamp=event_class.create_timestamp(),
            status=status,
            herald_status=callback_status(status).value,
            twilio_sid=twilio_sid,
            error_code=error_code,
            error_message=error_message,
            at=at,
        )
        return event


def _status_reported_v1_v2(state: dict[str, Any]) -> None:
    """StatusReported events recorded before they carried the Herald status: the one the
    same mapping gave when they were applied."""
    state["herald_status"] = callback_status(state["status"]).value


Message.StatusReported.class_version = 2  # type: ignore[attr-defined]
Message.StatusReported.upcast_v1_v2 = staticmethod(_status_reported_v1_v2)  # type: ignore[attr-defined]
