"""Message templates: `{{name}}` or `{{ name }}` replaced by the recipient's variable.

A missing variable renders as an empty string. Values are inserted literally: a value
that itself looks like a placeholder is not expanded again.
"""

import math
import re
from collections.abc import Callable, Mapping

from domain.text import VARIABLE_NAME_CHARS, VARIABLE_VALUE_CHARS, TextProblem, text_problem

Variable = str | int | float | bool

# Integers beyond 2**53 lose digits in most JSON readers (and str() of a huge one raises).
MAX_SAFE_INTEGER = 2**53 - 1

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.\-]+)\s*\}\}")


def _text(value: Variable) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render(template: str, variables: Mapping[str, Variable]) -> str:
    return compile_template(template)(variables)


def compile_template(template: str) -> Callable[[Mapping[str, Variable]], str]:
    """A function rendering `template`; split once, so each recipient costs only a join."""
    pieces = PLACEHOLDER.split(template)  # literal, name, literal, name, ..., literal
    literals, names = pieces[0::2], pieces[1::2]
    if not names:
        return lambda variables: template

    def render_one(variables: Mapping[str, Variable]) -> str:
        out = [literals[0]]
        for name, literal in zip(names, literals[1:], strict=True):
            value = variables.get(name, "")
            out.append(value if type(value) is str else _text(value))
            out.append(literal)
        return "".join(out)

    return render_one


class VariableRules:
    """Checks a recipient's variables against the text and number rules. Names found good
    are remembered: a campaign's recipients repeat the same few names."""

    def __init__(self) -> None:
        self._good_names: set[str] = set()

    def problem(self, variables: Mapping[str, Variable]) -> tuple[object, TextProblem] | None:
        """The first bad name or value (as given) and what is wrong with it, or None."""
        for name, value in variables.items():
            if name not in self._good_names:
                found = text_problem(name, VARIABLE_NAME_CHARS)
                if found is None and not name.strip():
                    found = TextProblem("required", "must not be empty")
                if found is not None:
                    return name, TextProblem(found.code, f"a variable name {found.reason}")
                self._good_names.add(name)
            # The common case, inline: 100,000 recipients pass through here.
            if type(value) is str and value.isprintable() and len(value) <= VARIABLE_VALUE_CHARS:
                continue
            found = _value_problem(value)
            if found is not None:
                return value, TextProblem(found.code, f"variable {name!r} {found.reason}")
        return None


def _value_problem(value: Variable) -> TextProblem | None:
    if type(value) is str:
        return text_problem(value, VARIABLE_VALUE_CHARS)
    if type(value) is int and not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        return TextProblem("out_of_range", f"must be within ±{MAX_SAFE_INTEGER}")
    if type(value) is float and not math.isfinite(value):
        return TextProblem("out_of_range", "must be a finite number")
    return None
