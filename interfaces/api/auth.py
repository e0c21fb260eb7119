"""`Authorization: Bearer KEY_ID:KEY_SECRET` → the account the key belongs to.

Every failure gives the same 401, so a caller cannot learn which part was wrong; the
secret's hash is compared in constant time. It is a middleware, so it runs before
anything reads the body: without valid credentials the answer is 401 whatever was sent,
and a large body costs nothing to refuse.
"""

import hmac
from typing import Any, Protocol
from uuid import UUID

from anyio import to_thread
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp

from application.directory import hash_secret
from domain import ids
from interfaces.api.errors import NotAuthorized

UNAUTHORIZED = "missing or invalid credentials"


class ApiKeys(Protocol):
    def api_key(self, key_id: UUID) -> tuple[UUID, str] | None:
        """(account_id, secret_hash) of a key that is not revoked."""
        ...


class ApiKeyAuthentication(AbstractAuthenticationMiddleware):
    """Routes opt out with `exclude_from_auth=True` (health, Twilio's webhooks)."""

    def __init__(self, app: ASGIApp, api_keys: ApiKeys, **options: Any) -> None:
        super().__init__(app, **options)
        self.api_keys = api_keys

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        account_id = await to_thread.run_sync(authenticate, header, self.api_keys)
        return AuthenticationResult(user=account_id, auth=None)


def account_of(request: Request[Any, Any, Any]) -> UUID:
    """The `account_id` dependency: the account the middleware authenticated."""
    account_id: UUID = request.user
    return account_id


def authenticate(header: str, api_keys: ApiKeys) -> UUID:
    scheme, _, credentials = header.partition(" ")
    key_id, _, secret = credentials.strip().partition(":")
    key_uuid = ids.parse_public_id(ids.KEY, key_id)
    found = api_keys.api_key(key_uuid) if key_uuid and scheme.lower() == "bearer" else None
    # Hash and compare even when the key is unknown, so timing tells nothing either.
    account_id, expected = found or (None, hash_secret("") + "x")
    if not hmac.compare_digest(hash_secret(secret), expected) or account_id is None:
        raise NotAuthorized(UNAUTHORIZED)
    return account_id
