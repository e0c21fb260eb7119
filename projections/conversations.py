"""Conversations on the read models: what receiving an SMS reads (who owns a number, the
last message sent to a phone), and the conversations and threads the API serves.

A thread is herald.messages (outbound, from the number to the phone; index
messages_by_thread) with herald.inbound_messages, in time order: outbound messages are not
copied anywhere for it."""

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from psycopg_pool import ConnectionPool

from application.inbound import NumberOwner
from domain import ids
from domain.account import default_help_text
from projections.queries import encode_cursor, fetch_rows, time_and_id_after
from projections.threads import thread_entries, thread_sql
from projections.views import ThreadEntry

THREAD_LIMIT = 1000  # entries of a conversation's thread shown, the newest
ANSWER_LIMIT = 50


class ConversationView(msgspec.Struct, kw_only=True):
    conversation_id: str
    agent_id: str
    number: str  # our sender number
    phone: str  # theirs
    started_at: datetime
    last_activity_at: datetime
    last_inbound_at: datetime | None
    inbound_count: int
    last_kind: str | None  # of the latest inbound message: opt_out, opt_in, help, reply
    awaiting_reply_since: datetime | None
    # The agent's answers: one being written since, and how the last one went.
    answer_requested_at: datetime | None
    last_answer_status: str | None  # sent, failed; None: no answer yet
    last_answer_error: str | None  # "code: reason" when it failed
    answers_sent: int
    answers_failed: int


class AnswerView(msgspec.Struct):
    """One answer asked of the agent's responder."""

    requested_at: datetime
    responder: str  # webhook, openai
    outcome: str  # requested (being written), sent, failed
    outcome_at: datetime | None
    message_id: str | None  # the answer sent (GET /v1/sms/{id})
    turns: int | None  # messages of the thread it was sent
    omitted: int | None  # older ones left out (the thread was trimmed)
    error_code: str | None
    error: str | None


class ConversationPage(msgspec.Struct):
    conversations: list[ConversationView]
    next_cursor: str | None


class ConversationDetailView(ConversationView, kw_only=True):
    thread: list[ThreadEntry]  # oldest first; the newest THREAD_LIMIT entries
    thread_truncated: bool
    answers: list[AnswerView]  # newest first, the last ANSWER_LIMIT


class ConversationQueries:
    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    # What receiving reads (application.inbound.Threads).

    def number_owner(self, number: str) -> NumberOwner | None:
        rows = fetch_rows(
            self.pool,
            "SELECT account_id, agent_id FROM herald.sender_numbers WHERE phone_number = %s",
            (number,),
        )
        return NumberOwner(rows[0]["account_id"], rows[0]["agent_id"]) if rows else None

    def last_outbound(self, account_id: UUID, number: str, phone: str) -> UUID | None:
        rows = fetch_rows(
            self.pool,
            "SELECT message_id FROM herald.messages WHERE from_number = %s AND to_phone = %s"
            " AND account_id = %s ORDER BY created_at DESC, message_id DESC LIMIT 1",
            (number, phone, account_id),
        )
        return rows[0]["message_id"] if rows else None

    # What the API serves.

    def help_text(self, account_id: UUID) -> str | None:
        """What the account answers HELP with (its own text, or the default)."""
        rows = fetch_rows(
            self.pool,
            "SELECT name, help_text FROM herald.accounts WHERE account_id = %s",
            (account_id,),
        )
        if not rows:
            return None
        return rows[0]["help_text"] or default_help_text(rows[0]["name"])

    def conversations(
        self,
        account_id: UUID,
        phone: str | None = None,
        number: str | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> ConversationPage:
        """The account's conversations, newest activity first."""
        query = "SELECT * FROM herald.conversations WHERE account_id = %s"
        params: tuple[Any, ...] = (account_id,)
        if phone is not None:
            query += " AND phone = %s"
            params += (phone,)
        if number is not None:
            query += " AND number = %s"
            params += (number,)
        after = time_and_id_after(cursor)
        if after is not None:
            query += " AND (last_activity_at, conversation_id) < (%s, %s)"
            params += after
        rows = fetch_rows(
            self.pool,
            query + " ORDER BY last_activity_at DESC, conversation_id DESC LIMIT %s",
            (*params, limit + 1),
        )
        views = [ConversationView(**_view(r)) for r in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = encode_cursor(
                last["last_activity_at"].isoformat(), last["conversation_id"]
            )
        return ConversationPage(views, next_cursor)

    def conversation(
        self, account_id: UUID, conversation_id: UUID
    ) -> ConversationDetailView | None:
        rows = fetch_rows(
            self.pool,
            "SELECT * FROM herald.conversations WHERE conversation_id = %s AND account_id = %s",
            (conversation_id, account_id),
        )
        if not rows:
            return None
        c = rows[0]
        thread = fetch_rows(
            self.pool,
            thread_sql(
                "account_id = %s AND from_number = %s AND to_phone = %s", "conversation_id = %s"
            ),
            (account_id, c["number"], c["phone"], conversation_id, THREAD_LIMIT + 1),
        )
        truncated = len(thread) > THREAD_LIMIT
        return ConversationDetailView(
            **_view(c),
            thread=thread_entries(thread[1:] if truncated else thread),
            thread_truncated=truncated,
            answers=self._answers(conversation_id),
        )

    def _answers(self, conversation_id: UUID) -> list[AnswerView]:
        rows = fetch_rows(
            self.pool,
            "SELECT * FROM herald.answers WHERE conversation_id = %s"
            " ORDER BY requested_at DESC LIMIT %s",
            (conversation_id, ANSWER_LIMIT),
        )
        return [
            AnswerView(
                r["requested_at"],
                r["responder"],
                r["outcome"],
                r["outcome_at"],
                ids.public_id(ids.MESSAGE, r["message_id"]) if r["message_id"] else None,
                r["turns"],
                r["omitted"],
                r["error_code"],
                r["error"],
            )
            for r in rows
        ]


def _view(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "conversation_id": ids.public_id(ids.CONVERSATION, r["conversation_id"]),
        "agent_id": ids.public_id(ids.AGENT, r["agent_id"]),
        "number": r["number"],
        "phone": r["phone"],
        "started_at": r["started_at"],
        "last_activity_at": r["last_activity_at"],
        "last_inbound_at": r["last_inbound_at"],
        "inbound_count": r["inbound_count"],
        "last_kind": r["last_kind"],
        "awaiting_reply_since": r["awaiting_reply_since"],
        "answer_requested_at": r["answer_requested_at"],
        "last_answer_status": r["last_answer_status"],
        "last_answer_error": r["last_answer_error"],
        "answers_sent": r["answers_sent"],
        "answers_failed": r["answers_failed"],
    }
