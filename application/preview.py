"""The preview of a campaign: the report creating it would give, with nothing recorded.

It is built from the same checked request as create (see Campaigns.check): the valid
recipients, the invalid ones with their reasons, duplicates, opted-out phones, each
message's segments and encoding (and the characters that forced UCS-2), the cost, and
when sending would start and end at the numbers' pace and within the account's quiet
hours.
"""

from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec

from domain.eta import Zones, completion_at
from domain.phone import time_zones
from domain.quiet_hours import QuietHours
from domain.recipients import RecipientPlan
from domain.segments import Segments, count_segments
from domain.template import compile_template
from domain.text import escaped

MESSAGES_SHOWN = 20  # rendered messages in a preview unless asked for another number
MAX_MESSAGES_SHOWN = 100

# phonenumbers' zone data is keyed on at most this many leading digits; numbers that share
# them share zones (for an estimate: their line type could still differ).
ZONE_PREFIX_DIGITS = 9
UNKNOWN_ZONE = "Etc/Unknown"  # phonenumbers' answer for a number it cannot place


class InvalidRecipient(msgspec.Struct):
    index: int
    phone: str
    field: str
    value: Any
    code: str
    reason: str


class PreviewMessage(msgspec.Struct, kw_only=True):
    index: int
    phone: str
    message: str
    characters: int
    segments: int
    encoding: str  # "GSM-7" or "UCS-2"
    ucs2_characters: list[str]  # the characters that forced UCS-2
    suppressed: bool  # opted out: would not be sent


class PreviewCost(msgspec.Struct):
    amount: str
    currency: str


class CampaignPreview(msgspec.Struct, kw_only=True):
    requested_count: int  # recipients in the request
    valid_count: int  # recipients the campaign would have, opted-out ones included
    invalid_count: int
    invalid: list[InvalidRecipient]
    duplicates_removed: int
    suppressed_count: int  # opted out or without a required opt-in: suppressed, never sent
    opted_out: list[str]
    no_opt_in_count: int  # of those, without the opt-in record the account requires
    no_opt_in: list[str]
    segments_total: int  # of the messages that would be sent
    encodings: dict[str, int]  # messages that would be sent, per encoding
    ucs2_characters: list[str]  # every character that forced a message into UCS-2
    estimated_cost: PreviewCost
    mps: int  # the sender numbers' pace, together
    starts_at: datetime | None  # the first submission (later than asked in quiet hours)
    estimated_completion_at: datetime | None
    warnings: list[str]
    messages: list[PreviewMessage]  # the first `limit` recipients' messages


class Pricing(msgspec.Struct, frozen=True):
    per_segment: Decimal
    currency: str

    def of(self, segments: int) -> PreviewCost:
        amount = (self.per_segment * segments).quantize(Decimal("0.01"))
        return PreviewCost(str(amount), self.currency)


def preview_report(
    template: str,
    requested: Sequence[tuple[str, Any]],
    plan: RecipientPlan,
    *,
    start: datetime,
    mps: int,
    quiet_hours: QuietHours | None,
    pricing: Pricing,
    warnings: list[str],
    limit: int = MESSAGES_SHOWN,
) -> CampaignPreview:
    """`requested`: the request's (phone, variables) in order; `plan`: what create made of them."""
    render = compile_template(template)
    encodings: Counter[str] = Counter()
    forcing: dict[str, None] = {}
    segments_by_zones: Counter[Zones] = Counter()
    zones_of = _ZonesByPrefix()
    shown: list[PreviewMessage] = []
    without_opt_in = set(plan.without_opt_in)
    for index, recipient in _planned_with_index(requested, plan):
        text = render(recipient.variables)
        segments = count_segments(text)
        if len(shown) < limit:
            shown.append(_message(index, recipient.phone, text, segments, recipient.suppressed))
        if recipient.suppressed:
            continue
        encodings[segments.encoding] += 1
        forcing.update(dict.fromkeys(segments.ucs2_characters))
        segments_by_zones[zones_of(recipient.phone)] += segments.count
    return CampaignPreview(
        requested_count=len(requested),
        valid_count=len(plan.recipients),
        invalid_count=len(plan.problems),
        invalid=[
            InvalidRecipient(
                p.index, escaped(requested[p.index][0]), p.field, p.value, p.code, p.reason
            )
            for p in plan.problems
        ],
        duplicates_removed=plan.duplicates_removed,
        suppressed_count=plan.suppressed,
        opted_out=[
            r.phone for r in plan.recipients if r.suppressed and r.phone not in without_opt_in
        ],
        no_opt_in_count=len(plan.without_opt_in),
        no_opt_in=plan.without_opt_in,
        segments_total=plan.segments_total,
        encodings=dict(encodings),
        ucs2_characters=list(forcing),
        estimated_cost=pricing.of(plan.segments_total),
        mps=mps,
        starts_at=_first_submission(start, segments_by_zones, quiet_hours),
        estimated_completion_at=completion_at(start, segments_by_zones, mps, quiet_hours),
        warnings=warnings,
        messages=shown,
    )


def _planned_with_index(
    requested: Sequence[tuple[str, Any]], plan: RecipientPlan
) -> Iterator[tuple[int, Any]]:
    """The plan's recipients with their index in the request: the plan keeps each valid
    phone's first occurrence, in order."""
    invalid = {p.index for p in plan.problems}
    planned = iter(plan.recipients)
    seen: set[str] = set()
    for index, (phone, _) in enumerate(requested):
        if index in invalid or phone in seen:
            continue
        seen.add(phone)
        yield index, next(planned)


def _message(
    index: int, phone: str, text: str, segments: Segments, suppressed: bool
) -> PreviewMessage:
    return PreviewMessage(
        index=index,
        phone=phone,
        message=text,
        characters=len(text),
        segments=segments.count,
        encoding=segments.encoding,
        ucs2_characters=list(segments.ucs2_characters),
        suppressed=suppressed,
    )


def _first_submission(
    start: datetime, segments_by_zones: Counter[Zones], quiet_hours: QuietHours | None
) -> datetime | None:
    if not segments_by_zones:
        return None
    if quiet_hours is None:
        return start
    return min(quiet_hours.held_until(zones, start) or start for zones in segments_by_zones)


class _ZonesByPrefix:
    """A phone's time zones, looked up once per leading digits (each lookup costs ~40 µs)."""

    def __init__(self) -> None:
        self._known: dict[str, Zones] = {}

    def __call__(self, phone: str) -> Zones:
        prefix = phone[: 1 + ZONE_PREFIX_DIGITS]
        zones = self._known.get(prefix)
        if zones is None:
            known = tuple(z for z in time_zones(phone) if z != UNKNOWN_ZONE)
            zones = self._known[prefix] = known
        return zones
