import math

from hypothesis import given
from hypothesis import strategies as st

from domain.segments import GSM7_BASIC, GSM7_EXTENSION, count_segments


def test_160_gsm_characters_fit_one_segment_and_161_need_two() -> None:
    assert count_segments("a" * 160).count == 1
    assert count_segments("a" * 161).count == 2


def test_multipart_gsm_messages_hold_153_per_part() -> None:
    assert count_segments("a" * 306).count == 2
    assert count_segments("a" * 307).count == 3


def test_extension_characters_count_two() -> None:
    result = count_segments("€" * 80)
    assert (result.encoding, result.units, result.count) == ("GSM-7", 160, 1)
    assert count_segments("€" * 81).count == 2


def test_one_emoji_forces_ucs2_and_is_reported() -> None:
    result = count_segments("Hello 👋")
    assert result.encoding == "UCS-2"
    assert result.ucs2_characters == ("👋",)
    assert result.units == 8  # the emoji is outside the BMP: two units


def test_ucs2_limits_are_70_and_67() -> None:
    assert count_segments("ж" * 70).count == 1
    assert count_segments("ж" * 71).count == 2
    assert count_segments("ж" * 134).count == 2
    assert count_segments("ж" * 135).count == 3


def test_empty_message_is_one_segment() -> None:
    assert count_segments("").count == 1


gsm_text = st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION), max_size=800)


@given(gsm_text)
def test_gsm_segments_follow_the_formula(text: str) -> None:
    units = sum(2 if c in GSM7_EXTENSION else 1 for c in text)
    expected = 1 if units <= 160 else math.ceil(units / 153)
    result = count_segments(text)
    assert result.encoding == "GSM-7"
    assert result.count == expected


@given(st.text(max_size=400))
def test_segments_never_fewer_than_needed(text: str) -> None:
    result = count_segments(text)
    capacity = 160 if result.encoding == "GSM-7" else 70
    per_part = 153 if result.encoding == "GSM-7" else 67
    assert result.units <= (capacity if result.count == 1 else result.count * per_part)
