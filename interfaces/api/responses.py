"""The error statuses each operation can answer, in Herald's error shape, for the OpenAPI
schema (Litestar's own default would show its 400 body, which Herald never sends).

Every answer below comes from errors.py; the statuses an operation lists are those its
path can reach: 401 before anything else, 431 from the header limits, 400/413/415/422
from reading and checking a body, 404 and 409 from the use cases, 422 from bad query
parameters. Herald has no rate limit, so no operation answers 429.
"""

from typing import Any

import msgspec
from litestar.openapi import ResponseSpec


class Problem(msgspec.Struct):
    field: str | None  # e.g. "recipients[3].phone"
    value: Any
    code: str
    message: str
    index: int | None = None  # a recipient's place in the request


class Error(msgspec.Struct):
    code: str
    message: str
    details: list[Problem]


class ErrorBody(msgspec.Struct):
    error: Error


WHY = {
    400: "Malformed request; for a body: not JSON, a duplicated key, or nested too deeply.",
    401: "Missing or invalid credentials (no hint which part was wrong).",
    404: "Not found, or not this account's.",
    409: "The resource's state does not allow it, or it changed concurrently: try again.",
    413: "The body is too large.",
    415: "The body is not application/json.",
    422: "Invalid fields: every problem is listed in details.",
    431: "A header, or all of them together, is too large.",
}

# Every authenticated request can be refused for its credentials, its headers, or as
# malformed (Litestar's own 400s are answered in this shape too).
AUTHENTICATED = (400, 401, 431)
# ... and one with a body for the body.
WITH_BODY = (*AUTHENTICATED, 413, 415, 422)


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    """`responses=` for a route handler: each status with Herald's error shape."""
    return {
        status: ResponseSpec(
            data_container=ErrorBody, description=WHY[status], generate_examples=False
        )
        for status in sorted(set(statuses))
    }
