from hypothesis import given
from hypothesis import strategies as st

from domain.template import render


def test_replaces_placeholders_with_and_without_spaces() -> None:
    text = render(
        "Hi {{first_name}}, see you {{ day }} at {{time}}.",
        {"first_name": "Sarah", "day": "Tuesday", "time": "2pm"},
    )
    assert text == "Hi Sarah, see you Tuesday at 2pm."


def test_missing_variable_renders_as_empty_string() -> None:
    assert render("Hi {{first_name}}!", {}) == "Hi !"


def test_values_are_inserted_literally_without_second_expansion() -> None:
    assert render("{{a}} {{b}}", {"a": "{{b}}", "b": "x"}) == "{{b}} x"


def test_numbers_and_booleans_render_as_json_would() -> None:
    assert (
        render("{{n}} {{f}} {{yes}} {{no}}", {"n": 3, "f": 2.5, "yes": True, "no": False})
        == "3 2.5 true false"
    )


@given(st.text(alphabet=st.characters(blacklist_characters="{}")))
def test_text_without_braces_is_unchanged(text: str) -> None:
    assert render(text, {"x": "y"}) == text


@given(st.from_regex(r"[a-z_]{1,10}", fullmatch=True), st.text(max_size=30))
def test_any_value_lands_verbatim(name: str, value: str) -> None:
    assert render("<{{" + name + "}}>", {name: value}) == f"<{value}>"
