"""OPTIONS answers with every method of the path in `Allow`.

Litestar 2's own OPTIONS handler lists only the methods registered on a path before it
was made (litestar#4169, fixed in Litestar 3): `OPTIONS /v1/agents` said `OPTIONS, POST`
without GET. The route the request was routed to knows them all.
"""

from typing import Any

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send


class AllowEveryMethod(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    def __init__(self) -> None:
        self._allow: dict[str, bytes] | None = None  # by path, worked out on first use

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope.get("method") != "OPTIONS":
            await next_app(scope, receive, send)
            return
        if self._allow is None:
            self._allow = _methods_by_path(scope["litestar_app"])
        allowed = self._allow.get(scope.get("path_template", ""))

        async def send_with_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and allowed is not None:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                message = {**message, "headers": [*headers, (b"allow", allowed)]}  # type: ignore[typeddict-item]
            await send(message)

        await next_app(scope, receive, send_with_allow)


def _methods_by_path(app: Any) -> dict[str, bytes]:
    """Each path's methods, as an `Allow` value."""
    return {
        route.path_format: ", ".join(sorted(route.methods)).encode()
        for route in app.routes
        if hasattr(route, "methods")
    }
