"""Text rules: nothing that a read model cannot hold gets past them."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.template import MAX_SAFE_INTEGER, VariableRules
from domain.text import NAME_CHARS, escaped, text_problem

CONTROL = [chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)]]
LINE_BREAKS = ["\t", "\n", "\r"]


@pytest.mark.parametrize("char", CONTROL)
def test_no_control_character_passes_in_a_name(char: str) -> None:
    problem = text_problem(f"a{char}b", NAME_CHARS)
    assert problem is not None and problem.code == "control_character"


@pytest.mark.parametrize("char", [c for c in CONTROL if c not in LINE_BREAKS])
def test_multiline_text_refuses_control_characters_other_than_line_breaks(char: str) -> None:
    problem = text_problem(f"a{char}b", 1600, multiline=True)
    assert problem is not None and problem.code == "control_character"


def test_multiline_text_keeps_tabs_and_newlines() -> None:
    assert text_problem("Hi,\n\tsee you\r\nsoon", 1600, multiline=True) is None


@pytest.mark.parametrize("text", ["\ud800", "a\udc00", "\udfffz"])
def test_lone_surrogates_are_not_valid_unicode(text: str) -> None:
    problem = text_problem(text, NAME_CHARS)
    assert problem is not None and problem.code == "invalid_unicode"


@pytest.mark.parametrize(
    "text", ["Zoë", "Acme\u00a0Dental", "👩\u200d👩\u200d👧", "中文", "🦷 20% off", "a b"]
)
def test_ordinary_unicode_passes(text: str) -> None:
    assert text_problem(text, NAME_CHARS) is None


def test_length_is_limited() -> None:
    assert text_problem("x" * NAME_CHARS, NAME_CHARS) is None
    problem = text_problem("x" * (NAME_CHARS + 1), NAME_CHARS)
    assert problem is not None and problem.code == "too_long"


@given(st.text(max_size=300))
def test_escaped_text_always_passes_the_rules(text: str) -> None:
    assert text_problem(escaped(text), 1000) is None


def test_escaped_shows_what_was_there() -> None:
    assert escaped("a\x00b\ud800") == "a\\u0000b\\ud800"
    assert escaped("x" * 150, 100) == "x" * 100 + "…"


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"first\x00name": "x"}, "control_character"),
        ({"": "x"}, "required"),
        ({"n" * 101: "x"}, "too_long"),
        ({"first_name": "Sa\x00rah"}, "control_character"),
        ({"first_name": "line\nbreak"}, "control_character"),
        ({"first_name": "x" * 3201}, "too_long"),
        ({"n": MAX_SAFE_INTEGER + 1}, "out_of_range"),
        ({"n": float("inf")}, "out_of_range"),
    ],
)
def test_bad_variable_names_and_values_are_found(variables: dict, code: str) -> None:
    found = VariableRules().problem(variables)
    assert found is not None and found[1].code == code


def test_good_variables_pass() -> None:
    rules = VariableRules()
    for variables in ({"first_name": "Sarah", "n": 3, "f": 2.5, "ok": True}, {"first_name": "Jo"}):
        assert rules.problem(variables) is None
