"""A thread: the messages between one sender number and one phone, both ways, in time order.

Outbound ones are herald.messages (index messages_by_thread), inbound ones
herald.inbound_messages (index inbound_by_thread): outbound messages are never copied
for it, so the dispatcher's projection writes nothing more per message."""

from typing import Any

from domain import ids
from projections.views import ThreadEntry


def thread_sql(where_outbound: str, where_inbound: str) -> str:
    """Outbound and inbound messages of one thread, oldest first: the newest `%s` of them
    (the last parameter)."""
    return (
        "SELECT * FROM (SELECT 'outbound' AS direction, message_id, body, created_at AS at,"
        " twilio_sid, status, NULL AS kind FROM herald.messages WHERE " + where_outbound + ""
        " UNION ALL SELECT 'inbound', NULL, body, received_at, twilio_sid, 'received', kind"
        " FROM herald.inbound_messages WHERE " + where_inbound + ""
        " ORDER BY at DESC, twilio_sid DESC LIMIT %s) t ORDER BY at, twilio_sid"
    )


def thread_entries(rows: list[dict[str, Any]]) -> list[ThreadEntry]:
    return [
        ThreadEntry(
            r["direction"],
            r["body"],
            r["at"],
            r["twilio_sid"],
            r["status"],
            message_id=ids.public_id(ids.MESSAGE, r["message_id"]) if r["message_id"] else None,
            kind=r["kind"],
        )
        for r in rows
    ]
