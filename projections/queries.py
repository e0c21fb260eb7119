"""Queries on the read models, for the API (and as examples for analysts)."""

import base64
import math
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from domain import ids
from domain.message import campaign_message_id
from domain.sending import RETRYABLE_ERRORS, RETRYABLE_STATUSES
from domain.status import counts_from
from projections.threads import thread_entries, thread_sql
from projections.views import (
    AccountView,
    AgentView,
    CampaignDetailView,
    CampaignPage,
    CampaignView,
    Cost,
    CreatedCampaignView,
    MessageView,
    NumberView,
    QuietHoursView,
    RecipientPage,
    RecipientView,
    ResponderView,
)

CAMPAIGN_COLUMNS = """
    c.campaign_id, c.name, c.status, c.paused_reason,
    c.source, c.agent_id, c.from_numbers, c.created_at,
    c.scheduled_at, c.held_until, c.segments_total, c.duplicates_removed,
    jsonb_array_length(c.skipped) AS skipped_count, c.warnings, c.recipient_count,
    (SELECT coalesce(jsonb_object_agg(s.status, s.n), '{}') FROM herald.campaign_status_counts s
      WHERE s.campaign_id = c.campaign_id AND s.n > 0) AS status_counts,
    (SELECT coalesce(sum(n.mps), 0) FROM herald.sender_numbers n
      WHERE n.phone_number = ANY(c.from_numbers)) AS mps_total
"""


def fetch_rows(
    pool: ConnectionPool, query: str, params: Sequence[Any] = ()
) -> list[dict[str, Any]]:
    """One query on a pooled connection, its rows as dicts."""
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()  # type: ignore[arg-type]


ASCII_INDEX = re.compile(r"-?[0-9]{1,9}")  # a recipient index in a cursor: ASCII, an int4


def encode_cursor(*parts: Any) -> str:
    return base64.urlsafe_b64encode("|".join(str(p) for p in parts).encode()).decode()


def decode_cursor(cursor: str, count: int) -> list[str] | None:
    try:
        parts = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
    except (ValueError, UnicodeDecodeError):
        return None
    return parts if len(parts) == count else None


def time_and_id_after(cursor: str | None) -> tuple[datetime, UUID] | None:
    """The (time, id) a newest-first page continues after; None for the first page or a
    cursor that is not one."""
    parts = decode_cursor(cursor, 2) if cursor else None
    if parts is None:
        return None
    try:
        return datetime.fromisoformat(parts[0]), UUID(parts[1])
    except ValueError:
        return None


class Queries:
    def __init__(self, pool: ConnectionPool, price_per_segment: Decimal, currency: str) -> None:
        self.pool = pool
        self.price = price_per_segment
        self.currency = currency

    def _rows(self, query: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        return fetch_rows(self.pool, query, params)

    def api_key(self, key_id: UUID) -> tuple[UUID, str] | None:
        """(account_id, secret_hash) of a key that is not revoked."""
        rows = self._rows(
            "SELECT account_id, secret_hash FROM herald.api_keys WHERE key_id = %s AND NOT revoked",
            (key_id,),
        )
        return (rows[0]["account_id"], rows[0]["secret_hash"]) if rows else None

    def account_count(self) -> int:
        return int(self._rows("SELECT count(*) AS n FROM herald.accounts", ())[0]["n"])

    def account_with_number(self, name: str, phone_number: str) -> tuple[UUID, UUID] | None:
        """(account_id, agent_id) of the account called `name` that owns the sender number."""
        rows = self._rows(
            "SELECT a.account_id, n.agent_id FROM herald.accounts a"
            " JOIN herald.sender_numbers n ON n.account_id = a.account_id"
            " WHERE a.name = %s AND n.phone_number = %s",
            (name, phone_number),
        )
        return (rows[0]["account_id"], rows[0]["agent_id"]) if rows else None

    def _campaign_view(self, row: dict[str, Any]) -> dict[str, Any]:
        status_counts: dict[str, int] = row["status_counts"]
        counts = counts_from(status_counts)
        # A hold is news only while the campaign runs (paused or done, nothing waits on it).
        held_until = row["held_until"] if row["status"] == "running" else None
        return {
            "campaign_id": ids.public_id(ids.CAMPAIGN, row["campaign_id"]),
            "name": row["name"],
            "status": row["status"],
            "paused_reason": row["paused_reason"],
            **counts,
            "source": row["source"],
            "status_counts": status_counts,
            "agent_id": ids.public_id(ids.AGENT, row["agent_id"]),
            "from_numbers": row["from_numbers"],
            "created_at": row["created_at"],
            "scheduled_at": row["scheduled_at"],
            "segments_total": row["segments_total"],
            "estimated_cost": Cost(
                str((self.price * row["segments_total"]).quantize(Decimal("0.01"))), self.currency
            ),
            "estimated_completion_at": self._eta(row, counts, held_until),
            "held_until": held_until,
            "duplicates_removed": row["duplicates_removed"],
            "skipped_count": row["skipped_count"],
            "warnings": row["warnings"],
        }

    @staticmethod
    def _eta(
        row: dict[str, Any], counts: dict[str, int], held_until: datetime | None
    ) -> datetime | None:
        """When the last pending segment will have been submitted at the numbers' pace."""
        if row["status"] not in ("running", "scheduled") or not row["mps_total"]:
            return None
        sendable = counts["total_count"] - counts["suppressed_count"] - counts["cancelled_count"]
        if not sendable:
            return None
        remaining = row["segments_total"] * counts["pending_count"] / sendable
        # A campaign waiting for quiet hours to end starts again when they do.
        start = max(filter(None, (row["scheduled_at"], row["created_at"], held_until)))
        try:
            return start + timedelta(seconds=math.ceil(remaining / row["mps_total"]))
        except OverflowError:  # only a campaign recorded before schedules were limited
            return None

    def campaign(self, account_id: UUID, campaign_id: UUID) -> CampaignView | None:
        rows = self._rows(
            f"SELECT {CAMPAIGN_COLUMNS} FROM herald.campaigns c"
            " WHERE c.campaign_id = %s AND c.account_id = %s",
            (campaign_id, account_id),
        )
        return CampaignView(**self._campaign_view(rows[0])) if rows else None

    def retryable_failures(self, campaign_id: UUID) -> int:
        """How many recipients a retry would send to again (domain.sending.is_retryable)."""
        rows = self._rows(
            "SELECT count(*) AS n FROM herald.recipients WHERE campaign_id = %s"
            " AND status = ANY(%s) AND error_code = ANY(%s)",
            (campaign_id, sorted(RETRYABLE_STATUSES), sorted(RETRYABLE_ERRORS)),
        )
        return int(rows[0]["n"])

    def created_campaign(self, account_id: UUID, campaign_id: UUID) -> CreatedCampaignView | None:
        rows = self._rows(
            f"SELECT {CAMPAIGN_COLUMNS}, c.skipped, c.no_opt_in FROM herald.campaigns c"
            " WHERE c.campaign_id = %s AND c.account_id = %s",
            (campaign_id, account_id),
        )
        if not rows:
            return None
        row = rows[0]
        return CreatedCampaignView(
            **self._campaign_view(row),
            skipped=row["skipped"],
            no_opt_in_count=len(row["no_opt_in"]),
            no_opt_in=row["no_opt_in"],
        )

    def campaign_detail(
        self, account_id: UUID, campaign_id: UUID, limit: int
    ) -> CampaignDetailView | None:
        view = self.campaign(account_id, campaign_id)
        if view is None:
            return None
        page = self.recipients(campaign_id, None, None, limit)
        fields = {f: getattr(view, f) for f in view.__struct_fields__}
        return CampaignDetailView(
            **fields, recipients=page.recipients, next_cursor=page.next_cursor
        )

    def recipients(
        self, campaign_id: UUID, status: str | None, cursor: str | None, limit: int
    ) -> RecipientPage:
        after = -1
        if cursor is not None:
            parts = decode_cursor(cursor, 1)
            after = int(parts[0]) if parts and ASCII_INDEX.fullmatch(parts[0]) else -1
        query = (
            "SELECT idx, phone, variables, status, twilio_sid, error_code, error_message,"
            " message_id, updated_at FROM herald.recipients WHERE campaign_id = %s AND idx > %s"
        )
        params: tuple[Any, ...] = (campaign_id, after)
        if status is not None:
            query += " AND status = %s"
            params += (status,)
        rows = self._rows(query + " ORDER BY idx LIMIT %s", (*params, limit + 1))
        views = [
            RecipientView(
                index=r["idx"],
                phone=r["phone"],
                variables=r["variables"],
                status=r["status"],
                twilio_sid=r["twilio_sid"],
                error_code=r["error_code"],
                error_message=r["error_message"],
                message_id=ids.public_id(
                    ids.MESSAGE, r["message_id"] or campaign_message_id(campaign_id, r["idx"])
                ),
                updated_at=r["updated_at"],
            )
            for r in rows[:limit]
        ]
        next_cursor = encode_cursor(views[-1].index) if len(rows) > limit else None
        return RecipientPage(views, next_cursor)

    def campaigns(
        self,
        account_id: UUID,
        status: str | None,
        source: str | None,
        cursor: str | None,
        limit: int,
    ) -> CampaignPage:
        query = f"SELECT {CAMPAIGN_COLUMNS} FROM herald.campaigns c WHERE c.account_id = %s"
        params: tuple[Any, ...] = (account_id,)
        if status is not None:
            query += " AND c.status = %s"
            params += (status,)
        if source is not None:
            query += " AND c.source = %s"
            params += (source,)
        after = time_and_id_after(cursor)
        if after is not None:
            query += " AND (c.created_at, c.campaign_id) < (%s, %s)"
            params += after
        rows = self._rows(
            query + " ORDER BY c.created_at DESC, c.campaign_id DESC LIMIT %s", (*params, limit + 1)
        )
        views = [CampaignView(**self._campaign_view(r)) for r in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = encode_cursor(last["created_at"].isoformat(), last["campaign_id"])
        return CampaignPage(views, next_cursor)

    def message(
        self, account_id: UUID, message_id: UUID | None, sid: str | None
    ) -> MessageView | None:
        column, value = ("message_id", message_id) if message_id else ("twilio_sid", sid)
        rows = self._rows(
            f"SELECT * FROM herald.messages WHERE {column} = %s AND account_id = %s",
            (value, account_id),
        )
        if not rows:
            return None
        m = rows[0]
        # Both directions (projections/threads.py): the newest 200 entries.
        thread = self._rows(
            thread_sql(
                "account_id = %s AND from_number = %s AND to_phone = %s",
                "account_id = %s AND to_number = %s AND from_phone = %s",
            ),
            (account_id, m["from_number"], m["to_phone"]) * 2 + (200,),
        )
        return MessageView(
            message_id=ids.public_id(ids.MESSAGE, m["message_id"]),
            status=m["status"],
            to=m["to_phone"],
            from_number=m["from_number"],
            agent_id=ids.public_id(ids.AGENT, m["agent_id"]),
            campaign_id=ids.public_id(ids.CAMPAIGN, m["campaign_id"]) if m["campaign_id"] else None,
            body=m["body"],
            segments=m["segments"],
            encoding=m["encoding"],
            twilio_sid=m["twilio_sid"],
            error_code=m["error_code"],
            error_message=m["error_message"],
            created_at=m["created_at"],
            queued_at=m["queued_at"],
            sent_at=m["sent_at"],
            delivered_at=m["delivered_at"],
            undelivered_at=m["undelivered_at"],
            failed_at=m["failed_at"],
            updated_at=m["updated_at"],
            deferred_until=(
                m["next_attempt_at"]
                if m["attempt_state"] in ("new", "retry") and m["next_attempt_at"] > m["created_at"]
                else None
            ),
            attempts=m["attempts"],
            conversation=thread_entries(thread),
        )

    def account(self, account_id: UUID) -> AccountView | None:
        rows = self._rows(
            "SELECT name, quiet_hours_start, quiet_hours_end FROM herald.accounts"
            " WHERE account_id = %s",
            (account_id,),
        )
        if not rows:
            return None
        start, end = rows[0]["quiet_hours_start"], rows[0]["quiet_hours_end"]
        quiet = None if start is None else QuietHoursView(f"{start:%H:%M}", f"{end:%H:%M}")
        return AccountView(ids.public_id(ids.ACCOUNT, account_id), rows[0]["name"], quiet)

    def agents(self, account_id: UUID) -> list[AgentView]:
        rows = self._rows(
            "SELECT a.*, coalesce(array_agg(n.phone_number ORDER BY n.phone_number)"
            " FILTER (WHERE n.phone_number IS NOT NULL), '{}') AS phone_numbers"
            " FROM herald.agents a LEFT JOIN herald.sender_numbers n ON n.agent_id = a.agent_id"
            " WHERE a.account_id = %s GROUP BY a.agent_id ORDER BY a.created_at, a.agent_id",
            (account_id,),
        )
        return [
            AgentView(
                ids.public_id(ids.AGENT, r["agent_id"]),
                r["name"],
                r["system_prompt"],
                r["phone_numbers"],
                r["created_at"],
                ResponderView(r["responder_kind"], r["responder_url"]),
            )
            for r in rows
        ]

    def numbers(self, account_id: UUID) -> list[NumberView]:
        rows = self._rows(
            "SELECT * FROM herald.sender_numbers WHERE account_id = %s"
            " ORDER BY created_at, phone_number",
            (account_id,),
        )
        return [
            NumberView(
                ids.public_id(ids.NUMBER, r["number_id"]),
                r["phone_number"],
                ids.public_id(ids.AGENT, r["agent_id"]),
                r["mps"],
                r["created_at"],
            )
            for r in rows
        ]
