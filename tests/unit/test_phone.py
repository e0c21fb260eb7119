import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.phone import PhoneValidator

gb = PhoneValidator(frozenset({"GB"}))


@pytest.mark.parametrize("phone", ["+447111000001", "+447446466847", "+442079460000"])
def test_accepts_valid_gb_numbers(phone: str) -> None:
    assert gb.problem(phone) is None


@pytest.mark.parametrize(
    ("phone", "code"),
    [
        ("07111000001", "not_e164"),
        ("447111000001", "not_e164"),
        ("+44 7111 000001", "not_e164"),
        ("", "not_e164"),
        ("+4471", "invalid_number"),
        ("+14155552671", "country_not_allowed"),
        ("+441534123456", "country_not_allowed"),  # Jersey shares +44 but is not GB
    ],
)
def test_rejects_with_a_reason(phone: str, code: str) -> None:
    problem = gb.problem(phone)
    assert problem is not None and problem.code == code


def test_other_countries_can_be_allowed() -> None:
    assert PhoneValidator(frozenset({"GB", "US"})).problem("+14155552671") is None


@settings(max_examples=2000)
@given(st.from_regex(r"\+44[1-9][0-9]{5,11}", fullmatch=True))
def test_fast_path_agrees_with_phonenumbers(phone: str) -> None:
    parsed = phonenumbers.parse(phone)
    expected = phonenumbers.is_valid_number(parsed) and (
        phonenumbers.region_code_for_number(parsed) == "GB"
    )
    assert (gb.problem(phone) is None) == expected


@pytest.mark.parametrize(
    "phone",
    [
        "+447446466847".translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")),  # Arabic-Indic
        "+44744646684\u0667",  # one Arabic-Indic seven among ASCII digits
        "+447446466847".translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"}),  # fullwidth
        "+44744646684\u096d",  # Devanagari seven
    ],
)
def test_only_ascii_digits_make_a_phone_number(phone: str) -> None:
    problem = gb.problem(phone)
    assert problem is not None and problem.code == "not_e164"


def test_the_example_in_the_e164_message_is_a_number_herald_accepts() -> None:
    problem = gb.problem("07446466847")
    assert problem is not None
    example = problem.reason.rsplit(" ", 1)[-1]
    assert gb.problem(example) is None
