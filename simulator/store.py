"""The messages the simulator has created, kept in memory in creation order."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from uuid import uuid4

# How far along a status is: a late or repeated callback never moves a message back.
STATUS_RANK = {"queued": 0, "sent": 1, "delivered": 2, "undelivered": 2, "failed": 2}


def new_message_sid() -> str:
    return "SM" + uuid4().hex


@dataclass(slots=True)
class CallbackRecord:
    status: str
    http_status: int | None  # None when the receiver could not be reached


@dataclass(slots=True)
class Message:
    sid: str
    account_sid: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    num_segments: int
    status_callback: str | None
    date_created: datetime
    date_updated: datetime
    status: str = "queued"
    date_sent: datetime | None = None
    error_code: int | None = None
    callbacks: list[CallbackRecord] = field(default_factory=list)

    def advance(self, status: str, error_code: int | None, now: datetime) -> None:
        """Move to `status` unless the message is already as far along."""
        if STATUS_RANK[status] <= STATUS_RANK[self.status]:
            return
        self.status, self.error_code, self.date_updated = status, error_code, now
        if self.date_sent is None:
            self.date_sent = now


class MessageStore:
    def __init__(self) -> None:
        self._messages: list[Message] = []
        self._positions: dict[str, int] = {}

    def add(self, message: Message) -> None:
        self._positions[message.sid] = len(self._messages)
        self._messages.append(message)

    def get(self, sid: str) -> Message | None:
        position = self._positions.get(sid)
        return None if position is None else self._messages[position]

    def all(self) -> list[Message]:
        return list(self._messages)

    def clear(self) -> None:
        self._messages.clear()
        self._positions.clear()

    def older_than(self, sid: str | None) -> Iterator[Message]:
        """Newest first, from just before `sid` (from the newest when None)."""
        start = len(self._messages) if sid is None else self._positions.get(sid, 0)
        for position in range(start - 1, -1, -1):
            yield self._messages[position]

    def newer_than(self, sid: str) -> Iterator[Message]:
        """Oldest first, from just after `sid`."""
        start = self._positions.get(sid, len(self._messages))
        for position in range(start + 1, len(self._messages)):
            yield self._messages[position]
