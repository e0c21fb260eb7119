"""Phone numbers: E.164, valid per `phonenumbers`, and in an allowed country.

`phonenumbers.parse` + `is_valid_number` costs ~40 µs a number, which alone would spend
the time budget of a 100,000-recipient campaign. Numbers already in strict E.164 form
for an allowed region are checked directly against that region's own metadata: the
same per-type patterns and possible lengths `is_valid_number` uses, joined into one
regular expression per national-number length (~1.5 µs). Anything else takes the full
path, which also gives the reason.
"""

import re
from dataclasses import dataclass
from functools import cache

import phonenumbers
from phonenumbers import PhoneMetadata

# [0-9], not \d: \d also matches Arabic-Indic and other digits, so one number could be
# spelt several ways (and escape opt-outs, which are keyed on the string).
E164 = re.compile(r"\+[1-9][0-9]{1,14}")


@dataclass(frozen=True, slots=True)
class PhoneProblem:
    code: str
    reason: str


NOT_E164 = PhoneProblem("not_e164", "must be in E.164 format, like +447446466847")
INVALID = PhoneProblem("invalid_number", "is not a valid phone number")


TYPE_DESCS = (
    "premium_rate", "toll_free", "shared_cost", "voip", "personal_number",
    "pager", "uan", "voicemail", "fixed_line", "mobile",
)  # fmt: skip


@dataclass(frozen=True)
class RegionPatterns:
    """A region's valid national numbers, as one pattern per national-number length."""

    prefix: str  # "+44"
    by_length: dict[int, re.Pattern[str]]

    def is_valid(self, national: str) -> bool:
        pattern = self.by_length.get(len(national))
        return pattern is not None and pattern.fullmatch(national) is not None


def _lengths(desc: object, default: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(getattr(desc, "possible_length", ()) or ()) or default


@cache
def _region_patterns(region: str) -> RegionPatterns | None:
    metadata = PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.general_desc is None:
        return None
    general = metadata.general_desc
    general_lengths = _lengths(general, tuple(range(1, 18)))
    by_length = {}
    for length in general_lengths:
        # A type counts when the length is one of its own possible lengths (as
        # phonenumbers checks) and its pattern matches; the general pattern must match too.
        alternatives = [
            desc.national_number_pattern
            for name in TYPE_DESCS
            if (desc := getattr(metadata, name)) is not None
            and desc.national_number_pattern
            and length in _lengths(desc, general_lengths)
        ]
        if alternatives:
            union = "|".join(f"(?:{a})" for a in alternatives)
            general_pattern = general.national_number_pattern or r"\d+"
            by_length[length] = re.compile(f"(?=(?:{general_pattern})$)(?:{union})")
    return RegionPatterns("+" + str(metadata.country_code), by_length)


class PhoneValidator:
    """Validates phones against a set of allowed regions (ISO 3166 codes, e.g. {"GB"})."""

    def __init__(self, allowed_regions: frozenset[str]) -> None:
        self.allowed_regions = allowed_regions
        # Only a region that comes first for its country code can be decided by its own
        # patterns: phonenumbers tries the main region of a shared code (GB for +44) first.
        self._fast = [
            found
            for region in sorted(allowed_regions)
            if (found := _region_patterns(region)) is not None
            and phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(found.prefix[1:]), ("",))[0]
            == region
        ]

    def problem(self, phone: str) -> PhoneProblem | None:
        """None when the phone may be used, else what is wrong with it."""
        if not isinstance(phone, str) or not E164.fullmatch(phone):
            return NOT_E164
        for region in self._fast:
            if phone.startswith(region.prefix) and region.is_valid(phone[len(region.prefix) :]):
                return None
        return self._slow_problem(phone)

    def _slow_problem(self, phone: str) -> PhoneProblem | None:
        try:
            parsed = phonenumbers.parse(phone, None)
        except phonenumbers.NumberParseException:
            return INVALID
        if not phonenumbers.is_valid_number(parsed):
            return INVALID
        region = phonenumbers.region_code_for_number(parsed)
        if region not in self.allowed_regions:
            allowed = ", ".join(sorted(self.allowed_regions))
            return PhoneProblem("country_not_allowed", f"is in {region}; allowed: {allowed}")
        return None


def time_zones(phone: str) -> tuple[str, ...]:
    """The IANA zones a phone may be in (for quiet hours)."""
    from phonenumbers import timezone

    return tuple(timezone.time_zones_for_number(phonenumbers.parse(phone, None)))
