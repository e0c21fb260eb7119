"""Ports: what the use cases need from the world, implemented in projections/ and interfaces/."""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ReadModels(Protocol):
    """What the use cases read from the projections."""

    def catch_up(self, until: int | None = None) -> None:
        """Apply recorded events to the read models, at least up to `until`."""

    def opted_out(self, account_id: UUID, phones: Iterable[str]) -> set[str]:
        """Which of these phones have opted out of this account's messages."""
        ...
