"""One place that turns every error into SPEC.md's shape: {"error": {code, message, details}}."""

from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from application.errors import ApplicationError, Conflict, NotFound, ValidationFailed
from interfaces.api.body import MalformedBody, NotJson
from interfaces.api.limits import HeadersTooLarge

log = structlog.get_logger()

STATUS_OF: dict[type[ApplicationError], int] = {
    MalformedBody: 400,
    NotFound: 404,
    Conflict: 409,
    NotJson: 415,
    ValidationFailed: 422,
    HeadersTooLarge: 431,
}

CODE_OF_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
    431: "headers_too_large",
}


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    body = {"error": {"code": code, "message": message, "details": details or []}}
    return Response(body, status_code=status, headers=headers)


# RFC 9110: a 401 names the scheme to authenticate with.
CHALLENGE = {"WWW-Authenticate": "Bearer"}


class NotAuthorized(ApplicationError):
    code = "unauthorized"


def application_error(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, ApplicationError)
    if isinstance(exc, NotAuthorized):
        return error_response(401, exc.code, exc.message, headers=CHALLENGE)
    # The nearest class that has a status: a subclass (e.g. NumberUnavailable) answers as
    # its family (Conflict: 409) with its own code.
    status = next((STATUS_OF[c] for c in type(exc).__mro__ if c in STATUS_OF), 400)
    return error_response(status, exc.code, exc.message, exc.details)


def validation_error(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Litestar's own validation (query and path parameters): a 422 naming each field."""
    assert isinstance(exc, ValidationException)
    extra = exc.extra if isinstance(exc.extra, list) else []
    details = [
        {
            "field": item.get("key"),
            "value": item.get("value"),
            "code": "invalid",
            "message": item.get("message"),
        }
        for item in extra
        if isinstance(item, dict)
    ]
    return error_response(422, "validation_failed", "the request has invalid fields", details)


def http_error(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if status >= 500:
        log.error("http_error", status=status, detail=exc.detail)
    # Litestar's own headers are kept: a 405's Allow (RFC 9110 requires it), a 429's Retry-After.
    headers = {**(exc.headers or {}), **(CHALLENGE if status == 401 else {})}
    return error_response(
        status, CODE_OF_STATUS.get(status, "error"), str(exc.detail), headers=headers
    )


def unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unexpected_error", path=request.url.path)
    return error_response(500, "internal_error", "an unexpected error happened; it was logged")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ApplicationError: application_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    Exception: unexpected_error,
}
