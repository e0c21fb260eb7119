"""SMS segment counting: GSM-7 (160 single / 153 per part, extension characters count
two) or else UCS-2 (70 / 67, characters outside the BMP count two)."""

import math
from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True, slots=True)
class Segments:
    encoding: str  # "GSM-7" or "UCS-2"
    count: int
    units: int  # septets for GSM-7, 16-bit code units for UCS-2
    ucs2_characters: tuple[str, ...] = ()  # the characters that forced UCS-2


def count_segments(text: str) -> Segments:
    if GSM7_BASIC.issuperset(text):  # the common case, checked at C speed
        return Segments("GSM-7", _parts(len(text), 160, 153), len(text))
    units = 0
    forcing: dict[str, None] = {}
    for char in text:
        if char in GSM7_BASIC:
            units += 1
        elif char in GSM7_EXTENSION:
            units += 2
        else:
            forcing[char] = None
    if not forcing:
        return Segments("GSM-7", _parts(units, 160, 153), units)
    ucs2_units = sum(2 if ord(char) > 0xFFFF else 1 for char in text)
    return Segments("UCS-2", _parts(ucs2_units, 70, 67), ucs2_units, tuple(forcing))


def segment_count(text: str) -> int:
    """Just the number of segments (the hot path when adding up a campaign)."""
    if GSM7_BASIC.issuperset(text):
        return 1 if len(text) <= 160 else math.ceil(len(text) / 153)
    return count_segments(text).count


def _parts(units: int, single: int, per_part: int) -> int:
    if units <= single:
        return 1
    return math.ceil(units / per_part)
