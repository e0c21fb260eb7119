"""The dispatcher's view of the read models: what is due, on which number, and the
coordination state that lets any number of dispatchers share the work.

`dispatch.lanes` holds one row per sender number: which dispatcher leases it and until
when, and `next_at`, the earliest time its next segment may go. It is coordination state,
like a lock, not a read model: it is not derived from events and a rebuild leaves it be.
Campaign guards are PostgreSQL advisory locks: the dispatcher holds a shared one while it
has submissions of a campaign planned; cancel and pause take it exclusively. Account guards
work the same way for opt-outs: a shared one per account while submissions of the account
are planned, taken exclusively while an opt-out is recorded (application/consents.py says
why nothing then goes to the phone).
"""

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from projections.queries import fetch_rows

SCHEMA = """
CREATE SCHEMA IF NOT EXISTS dispatch;
CREATE TABLE IF NOT EXISTS dispatch.lanes (
    phone_number text PRIMARY KEY,
    mps integer NOT NULL,
    owner text,
    leased_until timestamptz NOT NULL DEFAULT 'epoch',
    next_at timestamptz NOT NULL DEFAULT 'epoch'
);
"""


@dataclass(frozen=True)
class Lane:
    """A leased number. Its times are durations from the database's now, so that the
    dispatchers coordinate on one clock whatever clock each plans with."""

    phone_number: str
    mps: int
    next_in: float  # seconds until the next segment may go (0: now)
    lease_left: float  # seconds until the lease runs out unless renewed
    taken_over_ago: float | None  # seconds since another dispatcher's lease ended, if it had one


@dataclass(frozen=True)
class CampaignToSend:
    campaign_id: UUID
    account_id: UUID
    agent_id: UUID
    message_template: str
    from_numbers: list[str]
    held_until: datetime | None  # recorded as waiting for quiet hours to end


@dataclass(frozen=True)
class DueRecipient:
    campaign_id: UUID
    index: int
    phone: str
    variables: dict[str, Any]
    from_number: str
    round: int
    opted_out: bool  # the phone opted out of the account's messages: suppress, never send


EXCLUSIVE_STRIPES = 64


def campaign_lock_key(campaign_id: UUID) -> int:
    return int.from_bytes(campaign_id.bytes[:8], "big", signed=True)


def account_lock_key(account_id: UUID) -> int:
    """Not the account id's own bytes, which a campaign's key could share by chance."""
    key = uuid5(NAMESPACE_URL, f"herald:sends:{account_id}")
    return int.from_bytes(key.bytes[:8], "big", signed=True)


class WorkQueue:
    def __init__(self, pool: ConnectionPool, url: str) -> None:
        self.pool = pool
        self.url = url
        self._guard_conn: psycopg.Connection[Any] | None = None
        self._guard_mutex = threading.Lock()
        self._held: dict[int, int] = {}  # holds taken, by advisory lock key
        # Waiting for an exclusive guard holds a pooled connection, and the block it guards
        # needs another (to catch the read models up): so one waiter per key in this
        # process (striped locks), and at most half the pool waiting or holding in all.
        # Else 15 STOPs of one account at once took every connection and stalled it all.
        self._exclusive_stripes = [threading.Lock() for _ in range(EXCLUSIVE_STRIPES)]
        self._exclusive_slots = threading.BoundedSemaphore(max(1, (pool.max_size or 2) // 2))

    def _rows(self, query: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return fetch_rows(self.pool, query, params)

    # Lanes ---------------------------------------------------------------------------

    def claim_lanes(self, owner: str, lease_seconds: float, limit: int) -> list[Lane]:
        """Lease the sender numbers that are free (or already ours) and have work."""
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(
                "INSERT INTO dispatch.lanes (phone_number, mps)"
                " SELECT phone_number, mps FROM herald.sender_numbers"
                " ON CONFLICT (phone_number) DO UPDATE SET mps = EXCLUDED.mps"
                " WHERE dispatch.lanes.mps <> EXCLUDED.mps"
            )
            conn.commit()
            claimed = cur.execute(
                """
                UPDATE dispatch.lanes l SET owner = %(owner)s,
                    leased_until = now() + make_interval(secs => %(lease)s)
                FROM (
                    SELECT phone_number, owner AS previous_owner, leased_until AS previous_until
                    FROM dispatch.lanes
                    WHERE (owner = %(owner)s OR leased_until < now())
                    ORDER BY phone_number
                    FOR UPDATE SKIP LOCKED LIMIT %(limit)s
                ) free
                WHERE l.phone_number = free.phone_number
                RETURNING l.phone_number, l.mps,
                    greatest(extract(epoch FROM l.next_at - now())::float, 0) AS next_in,
                    extract(epoch FROM l.leased_until - now())::float AS lease_left,
                    CASE WHEN free.previous_owner IS DISTINCT FROM %(owner)s
                        THEN extract(epoch FROM now() - free.previous_until)::float
                    END AS taken_over_ago
                """,
                {"owner": owner, "lease": lease_seconds, "limit": limit},
            ).fetchall()
        return [Lane(**r) for r in claimed]

    def advance_lanes(self, owner: str, next_in: dict[str, float]) -> None:
        """The numbers' next segments may go no sooner than these seconds from now."""
        if not next_in:
            return
        with self.pool.connection() as conn:
            conn.execute(
                "UPDATE dispatch.lanes l"
                " SET next_at = greatest(l.next_at, now() + make_interval(secs => v.next_in))"
                " FROM unnest(%s::text[], %s::float8[]) AS v(phone_number, next_in)"
                " WHERE l.phone_number = v.phone_number AND l.owner = %s",
                (list(next_in), list(next_in.values()), owner),
            )

    def release_lanes(self, owner: str) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                "UPDATE dispatch.lanes SET leased_until = greatest(next_at, now()), owner = NULL"
                " WHERE owner = %s",
                (owner,),
            )

    # What is due ---------------------------------------------------------------------

    def due_messages(self, lanes: Sequence[str], now: datetime, limit: int) -> list[UUID]:
        """Single sends and retries due on these numbers, single sends first."""
        rows = self._rows(
            "SELECT m.message_id FROM herald.messages m"
            " LEFT JOIN herald.campaigns c ON c.campaign_id = m.campaign_id"
            " WHERE m.from_number = ANY(%s) AND m.attempt_state IN ('new', 'retry')"
            " AND m.next_attempt_at <= %s AND (m.campaign_id IS NULL OR c.status = 'running')"
            " ORDER BY m.campaign_id IS NOT NULL, m.next_attempt_at LIMIT %s",
            (list(lanes), now, limit),
        )
        return [r["message_id"] for r in rows]

    def running_campaigns(self, lanes: Sequence[str]) -> list[CampaignToSend]:
        rows = self._rows(
            "SELECT campaign_id, account_id, agent_id, message_template, from_numbers, held_until"
            " FROM herald.campaigns WHERE status = 'running' AND from_numbers && %s"
            " ORDER BY created_at, campaign_id",
            (list(lanes),),
        )
        return [CampaignToSend(**r) for r in rows]

    def campaign_is_running(self, campaign_id: UUID) -> bool:
        rows = self._rows(
            "SELECT 1 FROM herald.campaigns WHERE campaign_id = %s AND status = 'running'",
            (campaign_id,),
        )
        return bool(rows)

    def due_recipients(
        self, campaign_id: UUID, account_id: UUID, budgets: dict[str, int]
    ) -> list[DueRecipient]:
        """The next recipients of a campaign for each number, at most `budgets[number]` each,
        with whether each phone has opted out of the account's messages since."""
        rows = self._rows(
            """
            SELECT r.idx, r.phone, r.variables, r.from_number, r.round,
                coalesce(c.opted_out, false) AS opted_out
            FROM unnest(%s::text[], %s::int[]) AS l(phone_number, budget)
            CROSS JOIN LATERAL (
                SELECT * FROM herald.recipients r
                WHERE r.campaign_id = %s AND r.from_number = l.phone_number
                  AND r.status = 'pending' AND r.message_id IS NULL
                ORDER BY r.idx LIMIT l.budget
            ) r
            LEFT JOIN herald.consents c ON c.account_id = %s AND c.phone = r.phone
            ORDER BY r.idx
            """,
            (list(budgets), list(budgets.values()), campaign_id, account_id),
        )
        return [
            DueRecipient(
                campaign_id,
                r["idx"],
                r["phone"],
                r["variables"],
                r["from_number"],
                r["round"],
                r["opted_out"],
            )
            for r in rows
        ]

    # Reconciliation and campaign progress --------------------------------------------

    def stale_attempts(
        self, in_flight_before: datetime, uncertain_before: datetime, limit: int, me: str
    ) -> list[UUID]:
        """Attempts whose answer may be lost: in flight too long (ours, or made by a
        dispatcher that no longer holds the number: it drops what it has not started by
        its lease's end), or answered `uncertain` a while ago."""
        rows = self._rows(
            "SELECT m.message_id FROM herald.messages m"
            " LEFT JOIN dispatch.lanes l ON l.phone_number = m.from_number"
            " WHERE (m.attempt_state = 'in_flight' AND m.attempted_at < %s AND ("
            "   m.attempted_by = %s OR m.attempted_by IS DISTINCT FROM l.owner"
            "   OR l.leased_until < now()))"
            " OR (m.attempt_state = 'uncertain' AND m.updated_at < %s)"
            " ORDER BY m.attempted_at LIMIT %s",
            (in_flight_before, me, uncertain_before, limit),
        )
        return [r["message_id"] for r in rows]

    def finished_campaigns(self) -> list[tuple[UUID, bool]]:
        """Running campaigns with no recipient left to submit, and whether all failed."""
        rows = self._rows(
            """
            SELECT c.campaign_id,
                   coalesce((SELECT sum(n) FROM herald.campaign_status_counts s
                     WHERE s.campaign_id = c.campaign_id
                       AND s.status NOT IN ('suppressed', 'cancelled')), 0) AS sendable,
                   (SELECT count(*) FROM herald.recipients r WHERE r.campaign_id = c.campaign_id
                     AND r.status = 'failed' AND r.twilio_sid IS NULL) AS rejected
            FROM herald.campaigns c
            WHERE c.status = 'running' AND NOT EXISTS (
                SELECT 1 FROM herald.campaign_status_counts s
                WHERE s.campaign_id = c.campaign_id AND s.status = 'pending' AND s.n > 0)
            """
        )
        return [
            (r["campaign_id"], r["sendable"] > 0 and r["rejected"] == r["sendable"]) for r in rows
        ]

    def recent_outcomes(self, campaign_id: UUID, count: int) -> list[tuple[str, int | None]]:
        rows = self._rows(
            "SELECT status, error_code FROM herald.messages WHERE campaign_id = %s"
            " AND attempt_state = 'done' ORDER BY updated_at DESC LIMIT %s",
            (campaign_id, count),
        )
        return [(r["status"], r["error_code"]) for r in rows]

    def running_campaign_ids(self) -> list[UUID]:
        return [
            r["campaign_id"]
            for r in self._rows("SELECT campaign_id FROM herald.campaigns WHERE status = 'running'")
        ]

    def scheduled_campaigns(self) -> list[tuple[UUID, datetime]]:
        rows = self._rows(
            "SELECT campaign_id, scheduled_at FROM herald.campaigns WHERE status = 'scheduled'"
        )
        return [(r["campaign_id"], r["scheduled_at"]) for r in rows]

    # Campaign guards -----------------------------------------------------------------

    def _guard(self) -> psycopg.Connection[Any]:
        if self._guard_conn is None or self._guard_conn.closed:
            self._guard_conn = psycopg.connect(self.url, autocommit=True)
            self._held.clear()
        return self._guard_conn

    def hold(self, campaign_id: UUID, check: bool = True) -> bool:
        """Take (or add to) a shared hold on a campaign; False when it is no longer running.

        Blocks while a cancel or pause of the campaign is being recorded. With
        `check=False` it only counts one more hold on a campaign already held.
        """
        key = campaign_lock_key(campaign_id)
        if not check:
            with self._guard_mutex:
                self._held[key] += 1
            return True
        with self._guard_mutex:
            if key not in self._held:
                self._guard().execute("SELECT pg_advisory_lock_shared(%s)", (key,))
                self._held[key] = 0
            elif self._exclusive_waiting(key):
                # A cancel or pause waits for our holds to drain: plan nothing more of it.
                return False
            self._held[key] += 1
        if self.campaign_is_running(campaign_id):
            return True
        self.let_go(campaign_id)
        return False

    def hold_account(self, account_id: UUID, check: bool = True) -> bool:
        """Take (or add to) a shared hold on an account's sends; False while an opt-out of
        the account waits to be recorded (plan nothing of it now: next plan, it is known).

        Never blocks: waiting here, with the guard's mutex held, would keep this process's
        holds of other keys from being let go, and two opt-outs meeting two dispatchers
        could then wait for each other. With `check=False` it counts one more hold."""
        key = account_lock_key(account_id)
        with self._guard_mutex:
            if not check:
                self._held[key] += 1
                return True
            if key not in self._held:
                row = (
                    self._guard()
                    .execute("SELECT pg_try_advisory_lock_shared(%s)", (key,))
                    .fetchone()
                )
                if not (row and row[0]):  # an opt-out is being recorded, or waits to be
                    return False
                self._held[key] = 0
            elif self._exclusive_waiting(key):
                return False
            self._held[key] += 1
        return True

    def _exclusive_waiting(self, key: int) -> bool:
        row = (
            self._guard()
            .execute(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND classid = %s AND objid = %s AND objsubid = 1)",
                ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF),
            )
            .fetchone()
        )
        return bool(row and row[0])

    def let_go(self, campaign_id: UUID) -> None:
        self._let_go(campaign_lock_key(campaign_id))

    def let_go_account(self, account_id: UUID) -> None:
        self._let_go(account_lock_key(account_id))

    def _let_go(self, key: int) -> None:
        with self._guard_mutex:
            count = self._held.get(key, 0) - 1
            if count > 0:
                self._held[key] = count
                return
            self._held.pop(key, None)
            if self._guard_conn is not None and not self._guard_conn.closed:
                self._guard_conn.execute("SELECT pg_advisory_unlock_shared(%s)", (key,))

    @contextmanager
    def exclusive(self, campaign_id: UUID) -> Iterator[None]:
        """Wait for every dispatcher's planned submissions of the campaign, and keep new
        ones out, until the block (which records the cancel or pause) is done."""
        with self._exclusive(campaign_lock_key(campaign_id)):
            yield

    @contextmanager
    def exclusive_account(self, account_id: UUID) -> Iterator[None]:
        """Wait for every dispatcher's planned submissions of the account, and keep new ones
        out, until the block (which records an opt-out) is done."""
        with self._exclusive(account_lock_key(account_id)):
            yield

    @contextmanager
    def _exclusive(self, key: int) -> Iterator[None]:
        with (
            self._exclusive_stripes[key % EXCLUSIVE_STRIPES],
            self._exclusive_slots,
            self.pool.connection() as conn,
            conn.transaction(),
        ):
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
            yield

    def close(self) -> None:
        if self._guard_conn is not None:
            self._guard_conn.close()
