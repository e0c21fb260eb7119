"""Checks of request fields that several use cases share, as problems naming field and value."""

from typing import Any

from application.errors import problem
from domain.text import escaped, text_problem


def text_problems(
    field: str, value: str, max_chars: int, *, multiline: bool = False, required: bool = True
) -> list[dict[str, Any]]:
    """What is wrong with a text field (see domain/text.py), or nothing."""
    found = text_problem(value, max_chars, multiline)
    if found is not None:
        return [problem(field, escaped(value), found.code, found.reason)]
    if required and not value.strip():
        return [problem(field, value, "required", "must not be empty")]
    return []
