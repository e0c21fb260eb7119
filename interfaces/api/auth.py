"""`Authorization: Bearer KEY_ID:KEY_SECRET` → the account the key belongs to.

Every failure gives the same 401, so a caller cannot learn which part was wrong; the
secret's hash is compared in constant time.
"""

import hmac
from typing import Any
from uuid import UUID

from litestar import Request

from application.directory import hash_secret
from domain import ids
from interfaces.api.errors import NotAuthorized
from interfaces.bootstrap import Herald

UNAUTHORIZED = "missing or invalid credentials"


def authenticate(request: Request[Any, Any, Any], herald: Herald) -> UUID:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    key_id, _, secret = credentials.strip().partition(":")
    key_uuid = ids.parse_public_id(ids.KEY, key_id)
    found = herald.queries.api_key(key_uuid) if key_uuid and scheme.lower() == "bearer" else None
    # Hash and compare even when the key is unknown, so timing tells nothing either.
    account_id, expected = found or (None, hash_secret("") + "x")
    if not hmac.compare_digest(hash_secret(secret), expected) or account_id is None:
        raise NotAuthorized(UNAUTHORIZED)
    return account_id
