"""The rules request fields are held to, restated for the OpenAPI schema (msgspec `Meta`).

The use cases enforce every one of them (domain/text.py, domain/phone.py, the limits in
application/), listing every problem in one 422 in their own words; these annotations only
publish them, so that a client generated from /schema/openapi.json knows them. They are
documentation that cannot drift unseen: the schemathesis run in tests/e2e sends values on
both sides of each one and fails when the API accepts what the schema forbids, or refuses
what it allows.

Keys of `extra_json_schema["extra"]` are the names of Litestar's `Schema` attributes;
nested values are plain JSON Schema.
"""

from typing import Annotated, Any

from msgspec import Meta

from domain.text import MESSAGE_CHARS, NAME_CHARS, SYSTEM_PROMPT_CHARS, TEMPLATE_CHARS

E164_PATTERN = r"^\+[1-9][0-9]{1,14}$"  # as domain.phone.E164: ASCII digits only
# No C0 or C1 control character (domain/text.py), and one character that is not a space
# (str.strip()'s spaces: those that are not control characters are listed). A lone
# surrogate is refused too, but is no character a JSON Schema string can hold.
_CONTROL = r"\x00-\x1f\x7f-\x9f"
_SPACE = r"\x20\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
LINE_PATTERN = rf"^[^{_CONTROL}]*[^{_CONTROL}{_SPACE}][^{_CONTROL}]*$"
# Multi-line text (a message, a template, a system prompt) may also hold tab and line breaks.
_CONTROL_BUT_LINE_BREAKS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
MULTILINE_PATTERN = (
    rf"^[^{_CONTROL_BUT_LINE_BREAKS}]*[^{_CONTROL}{_SPACE}][^{_CONTROL_BUT_LINE_BREAKS}]*$"
)
OPTIONAL_MULTILINE_PATTERN = rf"^[^{_CONTROL_BUT_LINE_BREAKS}]*$"
CLOCK_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


def documented(description: str, examples: list[Any] | None = None, **rules: Any) -> Meta:
    """A field's rules, published in the schema (see the module's docstring)."""
    schema: dict[str, Any] = {"extra": rules}
    if examples:
        schema["examples"] = examples
    return Meta(description=description, extra_json_schema=schema)


Phone = Annotated[
    str, documented("E.164, ASCII digits", examples=["+447446466847"], pattern=E164_PATTERN)
]


def text(max_chars: int, description: str, multiline: bool = False) -> Any:
    """A required text field: not blank, at most `max_chars` characters, no control
    characters (but tab and line breaks in multi-line text)."""
    controls = "no control characters but tab and newline" if multiline else "no control characters"
    return Annotated[
        str,
        documented(
            f"{description}: 1 to {max_chars} characters, not blank, {controls}",
            min_length=1,
            max_length=max_chars,
            pattern=MULTILINE_PATTERN if multiline else LINE_PATTERN,
        ),
    ]


Name = text(NAME_CHARS, "a name")
MessageTemplate = text(
    TEMPLATE_CHARS, "`{{name}}` is replaced by the recipient's variable", multiline=True
)
MessageBody = text(MESSAGE_CHARS, "the message", multiline=True)
SystemPrompt = Annotated[
    str,
    documented(
        f"at most {SYSTEM_PROMPT_CHARS} characters, no control characters but tab and newline",
        max_length=SYSTEM_PROMPT_CHARS,
        pattern=OPTIONAL_MULTILINE_PATTERN,
    ),
]
ClockTime = Annotated[
    str,
    documented("HH:MM on a 24-hour clock", examples=["21:00"], pattern=CLOCK_TIME_PATTERN),
]


def at_least_one(description: str, at_most: int | None = None, items: Any = None) -> Meta:
    rules: dict[str, Any] = {"min_items": 1}
    if at_most is not None:
        rules["max_items"] = at_most
    if items is not None:
        rules["items"] = items
    return documented(description, **rules)


def count(low: int, high: int, description: str) -> Meta:
    return documented(f"{description}, {low} to {high}", minimum=low, maximum=high)
