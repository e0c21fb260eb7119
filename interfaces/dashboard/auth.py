"""Signing in to the dashboard: an API key (`KEY_ID:KEY_SECRET`, checked as the API checks
it) becomes a server-side session (Litestar's session middleware: the cookie holds only a
random session id, HttpOnly, SameSite=Lax). Each request checks that the session's key is
still a live key of the session's account, so revoking a key signs its sessions out.

`herald up` prints a sign-in link instead of a secret: a token naming the key's id (never
its secret), an expiry, and an HMAC-SHA256 over both with the dashboard's secret.
"""

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Request
from litestar.datastructures import Cookie

from domain import ids
from interfaces.settings import Settings
from projections.queries import Queries

# Used when HERALD_DASHBOARD_SECRET is not set: sessions and links last as long as the process.
_PROCESS_SECRET = secrets.token_hex(32)
LINK_SECONDS = 3600  # a sign-in link works for an hour
BOUND_COOKIE = "herald_signed_in"


class SignInRequired(Exception):
    """The request has no live session: the dashboard sends it to the sign-in page."""


@dataclass(frozen=True)
class Viewer:
    account_id: UUID
    key_id: UUID


def dashboard_secret(settings: Settings) -> str:
    return settings.dashboard_secret or _PROCESS_SECRET


def sign_in(request: Request[Any, Any, Any], account_id: UUID, key_id: UUID) -> Cookie:
    """Litestar keeps the session id a request came with, so a session id planted in a
    browser before it signs in would be signed in too: the session also holds a random
    token, set in a cookie of its own by this answer only, and required with it."""
    bound = secrets.token_urlsafe(32)
    request.clear_session()
    request.set_session({"account_id": str(account_id), "key_id": str(key_id), "bound": bound})
    return Cookie(key=BOUND_COOKIE, value=bound, httponly=True, samesite="lax", path="/")


def viewer_of(request: Request[Any, Any, Any], queries: Queries) -> Viewer:
    """The `viewer` dependency: the signed-in account, or SignInRequired."""
    session = request.session if "session" in request.scope else {}
    try:
        account_id, key_id = UUID(session["account_id"]), UUID(session["key_id"])
        bound = str(session["bound"]).encode()
    except (KeyError, TypeError, ValueError):
        raise SignInRequired() from None
    if not hmac.compare_digest(bound, request.cookies.get(BOUND_COOKIE, "").encode()):
        raise SignInRequired()
    found = queries.api_key(key_id)
    if found is None or found[0] != account_id:
        request.clear_session()
        raise SignInRequired()
    return Viewer(account_id, key_id)


def _mac(secret: str, message: str) -> str:
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def link_token(secret: str, key_id: UUID, now: float | None = None) -> str:
    expires = int((now if now is not None else time.time()) + LINK_SECONDS)
    message = f"{key_id.hex}.{expires}"
    return f"{message}.{_mac(secret, message)}"


def key_of_link(secret: str, token: str, now: float | None = None) -> UUID | None:
    """The key a sign-in link names, if its signature holds and it has not expired."""
    key_hex, _, rest = token.partition(".")
    expires, _, mac = rest.partition(".")
    expected = _mac(secret, f"{key_hex}.{expires}")
    if not hmac.compare_digest(mac.encode(), expected.encode()):
        return None
    if not expires.isdigit() or int(expires) < (now if now is not None else time.time()):
        return None
    try:
        return UUID(hex=key_hex)
    except ValueError:
        return None


def sign_in_link(base_url: str, secret: str, key: str) -> str:
    """A link signing in with `key` (`KEY_ID:KEY_SECRET`), naming only the key's id."""
    key_id = ids.parse_public_id(ids.KEY, key.partition(":")[0])
    assert key_id is not None
    return f"{base_url}/dashboard/signin/link?token={link_token(secret, key_id)}"
