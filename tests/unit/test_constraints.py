"""The rules published in the OpenAPI schema are the use cases' own rules."""

import re

from hypothesis import example, given
from hypothesis import strategies as st

from application.constraints import (
    CLOCK_TIME_PATTERN,
    E164_PATTERN,
    LINE_PATTERN,
    MULTILINE_PATTERN,
    OPTIONAL_MULTILINE_PATTERN,
)
from domain.phone import E164
from domain.quiet_hours import CLOCK_TIME
from domain.text import text_problem

# Any text but lone surrogates, which no JSON Schema string holds; weighted towards the
# characters the rules are about.
TRICKY = st.sampled_from("\x00\t\n\r\x0b\x1f \x7f\x85\x9f\xa0\u2028\u3000\ufeffaé😀")
TEXT = st.lists(st.one_of(TRICKY, st.characters(exclude_categories=("Cs",))), max_size=8).map(
    "".join
)


def matches(pattern: str, value: str) -> bool:
    """As JSON Schema reads a pattern: `$` is the end of the text (in Python it also
    matches before a final newline)."""
    return re.search(pattern.removesuffix("$") + r"\Z", value) is not None


def accepted(value: str, multiline: bool, required: bool = True) -> bool:
    """What the use cases accept (application/fields.py's rule), length aside."""
    found = text_problem(value, max_chars=len(value) + 1, multiline=multiline)
    return found is None and (bool(value.strip()) or not required)


@given(TEXT)
@example("a\n")
@example("\ufeff")
def test_the_one_line_text_pattern_is_the_text_rule(value: str) -> None:
    assert matches(LINE_PATTERN, value) == accepted(value, multiline=False)


@given(TEXT)
@example("a\n")
@example(" \t\u3000")
def test_the_multiline_text_patterns_are_the_text_rule(value: str) -> None:
    assert matches(MULTILINE_PATTERN, value) == accepted(value, multiline=True)
    optional = matches(OPTIONAL_MULTILINE_PATTERN, value)
    assert optional == accepted(value, multiline=True, required=False)


@given(st.text(alphabet="+0123456789\u0661\u0662x \n", max_size=18))
@example("+447446466847\n")
def test_the_phone_pattern_is_e164(value: str) -> None:
    assert matches(E164_PATTERN, value) == bool(E164.fullmatch(value))


@given(st.text(alphabet="0123456789:\u0663\n", max_size=6))
def test_the_clock_time_pattern_is_the_quiet_hours_rule(value: str) -> None:
    assert matches(CLOCK_TIME_PATTERN, value) == bool(CLOCK_TIME.fullmatch(value))
