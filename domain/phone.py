"""Phone numbers: E.164, valid per `phonenumbers`, and in an allowed country.

`phonenumbers.parse` + `is_valid_number` costs ~40 µs a number, which alone would spend
the time budget of a 100,000-recipient campaign. Numbers already in strict E.164 form
for an allowed region are checked directly against that region's own metadata (the
same type patterns `is_valid_number` uses, ~5 µs); anything else takes the full path,
which also gives the reason.
"""

import re
from dataclasses import dataclass
from functools import cache

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumberType, phonenumberutil

E164 = re.compile(r"\+[1-9]\d{1,14}")


@dataclass(frozen=True, slots=True)
class PhoneProblem:
    code: str
    reason: str


NOT_E164 = PhoneProblem("not_e164", "must be in E.164 format, like +447911123456")
INVALID = PhoneProblem("invalid_number", "is not a valid phone number")


@cache
def _region_metadata(region: str) -> tuple[str, PhoneMetadata] | None:
    metadata = PhoneMetadata.metadata_for_region(region)
    if metadata is None:
        return None
    return "+" + str(metadata.country_code), metadata


class PhoneValidator:
    """Validates phones against a set of allowed regions (ISO 3166 codes, e.g. {"GB"})."""

    def __init__(self, allowed_regions: frozenset[str]) -> None:
        self.allowed_regions = allowed_regions
        # Only a region that comes first for its country code can be decided by its own
        # patterns: phonenumbers tries the main region of a shared code (GB for +44) first.
        self._fast = [
            found
            for region in sorted(allowed_regions)
            if (found := _region_metadata(region)) is not None
            and phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(found[1].country_code or 0, ("",))[0]
            == region
        ]

    def problem(self, phone: str) -> PhoneProblem | None:
        """None when the phone may be used, else what is wrong with it."""
        if not isinstance(phone, str) or not E164.fullmatch(phone):
            return NOT_E164
        for prefix, metadata in self._fast:
            if phone.startswith(prefix):
                national = phone[len(prefix) :]
                if phonenumberutil._number_type_helper(national, metadata) != (
                    PhoneNumberType.UNKNOWN
                ):
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
