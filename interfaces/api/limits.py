"""Limits on a request's headers, answered in Herald's error shape (431) before anything
else looks at them. (The body's size is Litestar's `request_max_body_size`: 413.)

The HTTP server reads request heads of up to `SERVER_MAX_HEAD_BYTES` (uvicorn's own
default, 16 KiB, made it answer a plain-text 400 and drop the connection, which a client
sending a 200 KB header saw as a reset); anything larger than Herald's limit but within
that reaches this middleware and gets a proper answer.
"""

from typing import Any

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from application.errors import ApplicationError

MAX_HEADER_BYTES = 8 * 1024  # one header's name and value
MAX_HEADERS_BYTES = 32 * 1024  # all of them together
SERVER_MAX_HEAD_BYTES = 1024 * 1024  # what uvicorn reads before giving up on a request


class HeadersTooLarge(ApplicationError):
    code = "headers_too_large"


class HeaderLimits(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        check_headers(scope["headers"])
        await next_app(scope, receive, send)


def check_headers(headers: Any) -> None:
    total = 0
    for name, value in headers:
        size = len(name) + len(value)
        if size > MAX_HEADER_BYTES:
            shown = name.decode("latin-1")
            raise HeadersTooLarge(
                f"the {shown} header is {size} bytes; the limit is {MAX_HEADER_BYTES}",
                [
                    {
                        "field": shown,
                        "value": f"{len(value)} bytes",
                        "code": "too_long",
                        "message": f"at most {MAX_HEADER_BYTES} bytes with its name",
                    }
                ],
            )
        total += size
    if total > MAX_HEADERS_BYTES:
        raise HeadersTooLarge(f"the headers are {total} bytes; the limit is {MAX_HEADERS_BYTES}")
