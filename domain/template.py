"""Message templates: `{{name}}` or `{{ name }}` replaced by the recipient's variable.

A missing variable renders as an empty string. Values are inserted literally: a value
that itself looks like a placeholder is not expanded again.
"""

import re
from collections.abc import Mapping

Variable = str | int | float | bool

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.\-]+)\s*\}\}")


def _text(value: Variable) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render(template: str, variables: Mapping[str, Variable]) -> str:
    if "{{" not in template:
        return template
    return PLACEHOLDER.sub(lambda m: _text(variables.get(m.group(1), "")), template)


def placeholders(template: str) -> list[str]:
    """The variable names a template uses, in order of first use."""
    return list(dict.fromkeys(PLACEHOLDER.findall(template)))


def is_variable_value(value: object) -> bool:
    return isinstance(value, str | int | float | bool)
