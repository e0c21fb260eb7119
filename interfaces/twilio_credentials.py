"""Twilio credentials per account, with the environment's as the default.

An auth token is a secret that gets rotated; the event log is immutable and exported to
auditors, so tokens are kept in a table of their own (schema `secrets`: not a read model,
no event reproduces it). The log records only that an account's Twilio account SID was
set (`Account.TwilioAccountSet`).
"""

import threading
import time
from uuid import UUID

from psycopg_pool import ConnectionPool

SCHEMA = """
CREATE SCHEMA IF NOT EXISTS secrets;
CREATE TABLE IF NOT EXISTS secrets.twilio_credentials (
    account_id uuid PRIMARY KEY,
    account_sid text NOT NULL,
    auth_token text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
"""


class TwilioCredentials:
    def __init__(
        self, pool: ConnectionPool, default_sid: str, default_token: str, ttl: float = 5.0
    ) -> None:
        self.pool = pool
        self.default = (default_sid, default_token)
        self.ttl = ttl  # a rotated token is picked up by every process within this time
        self._cache: dict[object, tuple[float, tuple[str, str] | None]] = {}
        self._lock = threading.Lock()

    def store(self, account_id: UUID, sid: str, token: str) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                "INSERT INTO secrets.twilio_credentials (account_id, account_sid, auth_token)"
                " VALUES (%s, %s, %s) ON CONFLICT (account_id) DO UPDATE SET"
                " account_sid = EXCLUDED.account_sid, auth_token = EXCLUDED.auth_token,"
                " updated_at = now()",
                (account_id, sid, token),
            )
        with self._lock:
            self._cache.clear()

    def for_account(self, account_id: UUID) -> tuple[str, str]:
        found = self._cached(
            account_id,
            "SELECT account_sid, auth_token FROM secrets.twilio_credentials WHERE account_id = %s",
        )
        return found or self.default

    def _cached(self, key: object, query: str) -> tuple[str, str] | None:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        with self.pool.connection() as conn:
            row = conn.execute(query, (key,)).fetchone()  # type: ignore[arg-type]
        value = (row[0], row[1]) if row else None
        with self._lock:
            self._cache[key] = (now + self.ttl, value)
        return value
