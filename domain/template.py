"""Message templates: `{{name}}` or `{{ name }}` replaced by the recipient's variable.

A missing variable renders as an empty string. Values are inserted literally: a value
that itself looks like a placeholder is not expanded again.
"""

import re
from collections.abc import Callable, Mapping

Variable = str | int | float | bool

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


def placeholders(template: str) -> list[str]:
    """The variable names a template uses, in order of first use."""
    return list(dict.fromkeys(PLACEHOLDER.findall(template)))


def is_variable_value(value: object) -> bool:
    return isinstance(value, str | int | float | bool)
