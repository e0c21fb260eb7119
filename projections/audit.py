"""Which aggregates an audit reads, found in the read models by their indexes (the audit
use case, application/audit.py, then reads their events by id)."""

from uuid import UUID

from psycopg_pool import ConnectionPool

# The account's messages to a phone, through its sender numbers: `messages_by_thread`
# (from_number, to_phone, created_at) finds each number's messages to the phone.
PHONE_MESSAGES = """
    SELECT m.message_id FROM herald.sender_numbers n
    JOIN herald.messages m ON m.from_number = n.phone_number AND m.to_phone = %(phone)s
    WHERE n.account_id = %(account)s AND m.account_id = %(account)s
"""
CAMPAIGN_MESSAGES = "SELECT message_id, to_phone FROM herald.messages WHERE campaign_id = %s"


class AuditQueries:
    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def phone_messages(self, account_id: UUID, phone: str) -> list[UUID]:
        with self.pool.connection() as conn:
            rows = conn.execute(PHONE_MESSAGES, {"phone": phone, "account": account_id})
            return [row[0] for row in rows.fetchall()]

    def numbers(self, account_id: UUID) -> list[str]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT phone_number FROM herald.sender_numbers WHERE account_id = %s",
                (account_id,),
            ).fetchall()
        return [row[0] for row in rows]

    def campaign_messages(self, campaign_id: UUID) -> list[tuple[UUID, str]]:
        with self.pool.connection() as conn:
            rows = conn.execute(CAMPAIGN_MESSAGES, (campaign_id,)).fetchall()
        return [(row[0], row[1]) for row in rows]
