"""The reply worker's queries (application.ports.ReplyQueue): conversations awaiting an
answer from an agent with a responder, answers requested and never recorded, and the
newest turns of a thread."""

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from application.ports import ThreadTurn
from projections.threads import thread_sql

# Failed and suppressed messages never reached the phone: not part of what it saw.
_OUTBOUND = (
    "account_id = %s AND from_number = %s AND to_phone = %s"
    " AND status NOT IN ('failed', 'suppressed')"
)
_INBOUND = "account_id = %s AND to_number = %s AND from_phone = %s"


class PostgresReplyQueue:
    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def _rows(self, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(sql, params).fetchall()  # type: ignore[arg-type]

    def awaiting_answer(self, limit: int) -> list[UUID]:
        rows = self._rows(
            "SELECT c.conversation_id FROM herald.conversations c"
            " JOIN herald.agents a ON a.agent_id = c.agent_id"
            " WHERE c.awaiting_reply_since IS NOT NULL AND c.answer_requested_at IS NULL"
            " AND a.responder_kind <> 'none'"
            " ORDER BY c.awaiting_reply_since LIMIT %s",
            (limit,),
        )
        return [r["conversation_id"] for r in rows]

    def answers_requested_before(self, before: datetime, limit: int) -> list[UUID]:
        rows = self._rows(
            "SELECT conversation_id FROM herald.conversations WHERE answer_requested_at < %s"
            " ORDER BY answer_requested_at LIMIT %s",
            (before, limit),
        )
        return [r["conversation_id"] for r in rows]

    def thread(
        self, account_id: UUID, number: str, phone: str, limit: int
    ) -> tuple[list[ThreadTurn], int]:
        keys = (account_id, number, phone)
        rows = self._rows(thread_sql(_OUTBOUND, _INBOUND), (*keys, *keys, limit))
        turns = [ThreadTurn(r["direction"], r["body"], r["at"]) for r in rows]
        if len(turns) < limit:
            return turns, len(turns)
        counted = self._rows(
            f"SELECT (SELECT count(*) FROM herald.messages WHERE {_OUTBOUND})"
            f" + (SELECT count(*) FROM herald.inbound_messages WHERE {_INBOUND}) AS total",
            (*keys, *keys),
        )
        return turns, int(counted[0]["total"])
