"""Domain errors: each has a stable code that the HTTP layer maps to a response."""


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidTransition(DomainError):
    """A command that the aggregate's current status does not allow (HTTP 409)."""

    code = "invalid_state"
