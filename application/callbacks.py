"""Status callbacks: recorded on their Message, many per transaction (group commit).

One `save()` per callback tops out near a thousand a second (the event store serialises
writes), so the webhook gathers concurrent callbacks (interfaces.callback_batcher) and
records them here in one transaction. The read models follow a moment later (the
process's projection follower wakes on the insert's NOTIFY): Twilio reads nothing back,
and the next batch need not wait for the last one's projection.

A callback counts only when it is signed with the Twilio credentials of the account that
sent its message (never those its own `AccountSid` names, which any account could put
there): the query that reads the batch's message versions also reads their accounts, so
the check costs no extra roundtrip.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from uuid import UUID

from application.ports import Clock
from application.store import EventStore, IntegrityError
from domain.message import Message


@dataclass(frozen=True)
class StatusCallback:
    message_id: UUID
    status: str
    twilio_sid: str
    error_code: int | None
    error_message: str | None
    # Whether the request is signed with this account's Twilio credentials.
    signed_by: Callable[[UUID], bool]


class Outcome(Enum):
    RECORDED = "recorded"
    UNKNOWN_MESSAGE = "unknown_message"
    NOT_THE_SENDERS = "not_the_senders"  # not signed by the account that sent the message


class StatusCallbacks:
    def __init__(self, store: EventStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def record(self, batch: Sequence[StatusCallback]) -> list[Outcome]:
        """One query for the messages' versions and owners, one transaction for all the
        events; what became of each callback, in order."""
        now = self.clock.now()
        latest = self.store.latest_versions(
            list({callback.message_id for callback in batch}), ":Message.Created"
        )
        versions = {message_id: found.version for message_id, found in latest.items()}
        outcomes = []
        accepted = []
        events = []
        for callback in batch:
            found = latest.get(callback.message_id)
            if found is None:
                outcomes.append(Outcome.UNKNOWN_MESSAGE)
                continue
            if found.account_id is None or not callback.signed_by(found.account_id):
                outcomes.append(Outcome.NOT_THE_SENDERS)
                continue
            outcomes.append(Outcome.RECORDED)
            accepted.append(callback)
            version = versions[callback.message_id]
            versions[callback.message_id] = version + 1
            events.append(
                Message.status_report(
                    callback.message_id,
                    version,
                    callback.status,
                    callback.twilio_sid,
                    callback.error_code,
                    callback.error_message,
                    now,
                )
            )
        try:
            if events:
                self.store.record(*events)
        except IntegrityError:
            # The dispatcher recorded an answer on one of them meanwhile: one by one, fresh.
            for callback in accepted:
                self._record_one(callback, now)
        return outcomes

    def _record_one(self, callback: StatusCallback, now: datetime) -> int:
        for _ in range(10):
            # It exists: its version was just read.
            message = self.store.get(Message, callback.message_id)
            self._apply(message, callback, now)
            try:
                return self.store.record(message)
            except IntegrityError:
                continue
        raise RuntimeError(f"could not record a callback for {callback.message_id}")

    @staticmethod
    def _apply(message: Message, callback: StatusCallback, now: datetime) -> None:
        message.status_reported(
            status=callback.status,
            twilio_sid=callback.twilio_sid,
            error_code=callback.error_code,
            error_message=callback.error_message,
            at=now,
        )
