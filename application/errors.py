"""Errors of the use cases. The HTTP layer maps each to a status code in one place."""

from typing import Any


class ApplicationError(Exception):
    code = "error"

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class NotFound(ApplicationError):
    code = "not_found"


class Conflict(ApplicationError):
    code = "conflict"


class ChangedConcurrently(Conflict):
    """Another request changed the same thing first, every time this one tried."""

    code = "changed_concurrently"


class ValidationFailed(ApplicationError):
    """Every problem found in a request, each naming its field and value."""

    code = "validation_failed"


def problem(field: str, value: Any, code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"field": field, "value": value, "code": code, "message": message, **extra}
