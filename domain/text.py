"""Text rules: what a text field may hold, so that every read model can store it.

PostgreSQL `text` and `jsonb` cannot hold NUL, a lone surrogate cannot even be encoded
as UTF-8, and a control character in a name or a phone number is never what a client
meant. An event carrying one would be recorded (the log stores bytes) but could never be
projected, so every text field is checked against these rules before anything is
recorded: valid Unicode, no control characters (tab and line breaks only in multi-line
text: message bodies, templates, an agent's system prompt), and at most its field's
length.
"""

import re
from dataclasses import dataclass

# Longest allowed text, in characters, per kind of field.
NAME_CHARS = 200  # account, agent and campaign names
SYSTEM_PROMPT_CHARS = 20_000
MESSAGE_CHARS = 1600  # a message body (Twilio's own limit)
# A template may be longer than what it renders: `{{ first_name }}` may stand for "Jo".
TEMPLATE_CHARS = 2 * MESSAGE_CHARS
VARIABLE_NAME_CHARS = 100
# Values are mostly rendered, and the rendered message has its own limit (checked later,
# with its own error); this one bounds what is stored for values a template does not use.
VARIABLE_VALUE_CHARS = 2 * MESSAGE_CHARS
SECRET_CHARS = 256  # a Twilio auth token
ECHO_CHARS = 100  # of a bad value, when it is kept or shown back

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0, DEL and C1
_CONTROL_BUT_LINE_BREAKS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # \t \n \r pass
_UNSTORABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class TextProblem:
    code: str
    reason: str


def text_problem(value: str, max_chars: int, multiline: bool = False) -> TextProblem | None:
    """None when `value` may be recorded, else what is wrong with it."""
    if len(value) > max_chars:
        return TextProblem("too_long", f"is {len(value)} characters; the maximum is {max_chars}")
    # Nearly all text is printable: one C-speed call decides it (100,000 variables: ~5 ms).
    # What is not (tabs, newlines, no-break spaces, emoji joiners, ...) is looked at closely.
    if value.isprintable():
        return None
    if _SURROGATE.search(value):
        return TextProblem("invalid_unicode", "is not valid Unicode (it has a lone surrogate)")
    if multiline and _CONTROL_BUT_LINE_BREAKS.search(value):
        return TextProblem(
            "control_character", "must not contain control characters other than tab and newline"
        )
    if not multiline and _CONTROL.search(value):
        return TextProblem("control_character", "must not contain control characters")
    return None


def escaped(value: str, max_chars: int = ECHO_CHARS) -> str:
    """A form of any text that every read model can hold, for keeping or showing a bad
    value: control characters and surrogates as `\\uXXXX`, cut to `max_chars`."""
    shown = value if len(value) <= max_chars else value[:max_chars] + "…"
    return _UNSTORABLE.sub(lambda found: f"\\u{ord(found.group()):04x}", shown)
