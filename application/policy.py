"""Limits and prices that an operator can change (read from settings by the composition root)."""

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Policy:
    allowed_regions: frozenset[str] = field(default_factory=lambda: frozenset({"GB"}))
    max_recipients: int = 100_000
    price_per_segment: Decimal = Decimal("0.04")
    currency: str = "GBP"
