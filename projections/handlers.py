"""How each event changes the read models. Called inside the projector's transaction."""

from collections.abc import Callable, Sequence
from typing import Any

import msgspec
from psycopg import Cursor
from psycopg.types.json import Jsonb

from domain.sending import CALLBACK_STATUS, RETRYABLE_ERRORS, sender_for
from domain.status import RecipientStatus

Handler = Callable[[Cursor[Any], Any], None]
HANDLERS: dict[str, Handler] = {}  # by event name, e.g. "Campaign.Cancelled"


def handles(event_name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[event_name] = handler
        return handler

    return register


def apply_events(cur: Cursor[Any], events: Sequence[Any]) -> None:
    for event in events:
        handler = HANDLERS.get(type(event).__qualname__)
        if handler is not None:
            handler(cur, event)


@handles("Account.Created")
def account_created(cur: Cursor[Any], e: Any) -> None:
    cur.execute(
        "INSERT INTO herald.accounts VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
        (e.originator_id, e.name, e.timestamp),
    )


@handles("ApiKey.Created")
def key_created(cur: Cursor[Any], e: Any) -> None:
    cur.execute(
        "INSERT INTO herald.api_keys VALUES (%s, %s, %s, false, %s) ON CONFLICT DO NOTHING",
        (e.originator_id, e.account_id, e.secret_hash, e.timestamp),
    )


@handles("ApiKey.Revoked")
def key_revoked(cur: Cursor[Any], e: Any) -> None:
    cur.execute("UPDATE herald.api_keys SET revoked = true WHERE key_id = %s", (e.originator_id,))


@handles("Agent.Created")
def agent_created(cur: Cursor[Any], e: Any) -> None:
    cur.execute(
        "INSERT INTO herald.agents VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (e.originator_id, e.account_id, e.name, e.system_prompt, e.timestamp),
    )


@handles("SenderNumber.Imported")
def number_imported(cur: Cursor[Any], e: Any) -> None:
    cur.execute(
        "INSERT INTO herald.sender_numbers VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (e.originator_id, e.account_id, e.agent_id, e.phone_number, e.mps, e.timestamp),
    )


@handles("Campaign.Created")
def campaign_created(cur: Cursor[Any], e: Any) -> None:
    status = {"now": "running", "schedule": "scheduled", "draft": "draft"}[e.schedule_type]
    cur.execute(
        "INSERT INTO herald.campaigns VALUES"
        " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT DO NOTHING",
        (
            e.originator_id,
            e.account_id,
            e.agent_id,
            e.name,
            e.message_template,
            e.from_numbers,
            status,
            e.source,
            e.schedule_type,
            e.scheduled_at,
            e.created_at,
            e.created_at,
            e.recipient_count,
            e.segments_total,
            e.duplicates_removed,
            Jsonb(e.skipped),
            Jsonb(e.warnings),
        ),
    )


@handles("RecipientBatch.Created")
def recipients_added(cur: Cursor[Any], e: Any) -> None:
    row = cur.execute(
        "SELECT from_numbers FROM herald.campaigns WHERE campaign_id = %s", (e.campaign_id,)
    ).fetchone()
    pool: list[str] = row[0] if row else []
    with cur.copy(
        "COPY herald.recipients (campaign_id, idx, phone, variables, status, from_number,"
        " updated_at) FROM STDIN"
    ) as copy:
        # Plain text COPY: the JSON text of the variables is parsed by the jsonb column.
        rows = msgspec.json.decode(e.recipients)
        for offset, (phone, variables, status) in enumerate(rows):
            copy.write_row(
                (
                    e.campaign_id,
                    e.first_index + offset,
                    phone,
                    msgspec.json.encode(variables).decode(),
                    status,
                    sender_for(phone, pool),
                    e.timestamp,
                )
            )


@handles("Campaign.Cancelled")
def campaign_cancelled(cur: Cursor[Any], e: Any) -> None:
    cur.execute(
        "UPDATE herald.campaigns SET status = 'cancelled', updated_at = %s WHERE campaign_id = %s",
        (e.at, e.originator_id),
    )
    cur.execute(
        "UPDATE herald.recipients SET status = %s, updated_at = %s"
        " WHERE campaign_id = %s AND status = %s",
        (RecipientStatus.CANCELLED, e.at, e.originator_id, RecipientStatus.PENDING),
    )


@handles("Campaign.Launched")
def campaign_launched(cur: Cursor[Any], e: Any) -> None:
    _campaign_status(cur, e, "scheduled" if e.scheduled else "running")


@handles("Campaign.Started")
def campaign_started(cur: Cursor[Any], e: Any) -> None:
    _campaign_status(cur, e, "running")


@handles("Campaign.Paused")
def campaign_paused(cur: Cursor[Any], e: Any) -> None:
    _campaign_status(cur, e, "paused", paused_reason=e.reason)


@handles("Campaign.Resumed")
def campaign_resumed(cur: Cursor[Any], e: Any) -> None:
    _campaign_status(cur, e, e.status, paused_reason=None)


@handles("Campaign.Completed")
def campaign_completed(cur: Cursor[Any], e: Any) -> None:
    _campaign_status(cur, e, "done", finished_at=e.at)


@handles("Campaign.Failed")
def campaign_failed(cur: Cursor[Any], e: Any) -> None:
    _campaign_status(cur, e, "failed", finished_at=e.at)


@handles("Campaign.RetryRequested")
def campaign_retry_requested(cur: Cursor[Any], e: Any) -> None:
    _campaign_status(cur, e, "running", finished_at=None, retry_round=e.round_)
    cur.execute(
        "UPDATE herald.recipients SET status = 'pending', message_id = NULL, twilio_sid = NULL,"
        " error_code = NULL, error_message = NULL, round = %s, updated_at = %s"
        " WHERE campaign_id = %s AND status IN ('failed', 'undelivered')"
        " AND error_code = ANY(%s)",
        (e.round_, e.at, e.originator_id, sorted(RETRYABLE_ERRORS)),
    )


def _campaign_status(cur: Cursor[Any], e: Any, status: str, **columns: Any) -> None:
    assignments = "".join(f", {name} = %s" for name in columns)
    cur.execute(
        f"UPDATE herald.campaigns SET status = %s, updated_at = %s{assignments}"
        " WHERE campaign_id = %s",
        (status, e.at, *columns.values(), e.originator_id),
    )


@handles("Message.Created")
def message_created(cur: Cursor[Any], e: Any) -> None:
    cur.execute(
        "INSERT INTO herald.messages (message_id, account_id, agent_id, campaign_id,"
        " recipient_index, to_phone, from_number, body, segments, encoding, status,"
        " created_at, updated_at, next_attempt_at) VALUES"
        " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'pending', %s, %s, %s)"
        " ON CONFLICT DO NOTHING",
        (
            e.originator_id,
            e.account_id,
            e.agent_id,
            e.campaign_id,
            e.recipient_index,
            e.to,
            e.from_number,
            e.body,
            e.segments,
            e.encoding,
            e.created_at,
            e.created_at,
            e.not_before or e.created_at,
        ),
    )
    if e.campaign_id is not None:
        cur.execute(
            "UPDATE herald.recipients SET message_id = %s WHERE campaign_id = %s AND idx = %s",
            (e.originator_id, e.campaign_id, e.recipient_index),
        )


@handles("Message.Attempted")
def message_attempted(cur: Cursor[Any], e: Any) -> None:
    cur.execute(
        "UPDATE herald.messages SET attempt_state = 'in_flight', attempts = %s,"
        " attempted_at = %s WHERE message_id = %s",
        (e.attempt, e.at, e.originator_id),
    )


@handles("Message.Queued")
def message_queued(cur: Cursor[Any], e: Any) -> None:
    _message_status(cur, e, "queued", twilio_sid=e.twilio_sid, attempt_state="done")


@handles("Message.Rejected")
def message_rejected(cur: Cursor[Any], e: Any) -> None:
    _message_status(
        cur,
        e,
        "failed",
        attempt_state="done",
        error_code=e.error_code,
        error_message=e.error_message,
    )


@handles("Message.Deferred")
def message_deferred(cur: Cursor[Any], e: Any) -> None:
    cur.execute(
        "UPDATE herald.messages SET attempt_state = 'retry', next_attempt_at = %s,"
        " updated_at = %s WHERE message_id = %s",
        (e.retry_at, e.at, e.originator_id),
    )


@handles("Message.Uncertain")
def message_uncertain(cur: Cursor[Any], e: Any) -> None:
    cur.execute(
        "UPDATE herald.messages SET attempt_state = 'uncertain', updated_at = %s"
        " WHERE message_id = %s",
        (e.at, e.originator_id),
    )


@handles("Message.StatusReported")
def message_status_reported(cur: Cursor[Any], e: Any) -> None:
    status = CALLBACK_STATUS.get(e.status, RecipientStatus.PENDING).value
    cur.execute(
        "UPDATE herald.messages SET callbacks = callbacks + 1,"
        " twilio_sid = coalesce(twilio_sid, %s) WHERE message_id = %s",
        (e.twilio_sid, e.originator_id),
    )
    columns: dict[str, Any] = {}
    if e.error_code is not None:
        columns = {"error_code": e.error_code, "error_message": e.error_message}
    _message_status(cur, e, status, **columns)


STATUS_TIME = {
    "queued": "queued_at",
    "sent": "sent_at",
    "delivered": "delivered_at",
    "undelivered": "undelivered_at",
    "failed": "failed_at",
}


def _message_status(cur: Cursor[Any], e: Any, status: str, **columns: Any) -> None:
    """Move a message (and its recipient) forward to `status`; never backward."""
    forward = "herald.status_rank(%s) > herald.status_rank(status)"
    assignments = [f"status = CASE WHEN {forward} THEN %s ELSE status END", "updated_at = %s"]
    params: list[Any] = [status, status, e.at]
    if status in STATUS_TIME:
        assignments.append(f"{STATUS_TIME[status]} = coalesce({STATUS_TIME[status]}, %s)")
        params.append(e.at)
    for name, value in columns.items():
        assignments.append(f"{name} = %s")
        params.append(value)
    cur.execute(
        f"UPDATE herald.messages SET {', '.join(assignments)} WHERE message_id = %s"
        " RETURNING campaign_id",
        (*params, e.originator_id),
    )
    row = cur.fetchone()
    if row is not None and row[0] is not None:
        cur.execute(
            "UPDATE herald.recipients r SET status = m.status, twilio_sid = m.twilio_sid,"
            " error_code = m.error_code, error_message = m.error_message,"
            " updated_at = m.updated_at FROM herald.messages m"
            " WHERE m.message_id = %s AND r.campaign_id = m.campaign_id"
            " AND r.idx = m.recipient_index AND r.message_id = m.message_id",
            (e.originator_id,),
        )


@handles("Consent.OptedOut")
def opted_out(cur: Cursor[Any], e: Any) -> None:
    _set_consent(cur, e, opted_out=True)


@handles("Consent.OptedIn")
def opted_in(cur: Cursor[Any], e: Any) -> None:
    _set_consent(cur, e, opted_out=False)


def _set_consent(cur: Cursor[Any], e: Any, opted_out: bool) -> None:
    cur.execute(
        "INSERT INTO herald.consents VALUES (%s, %s, %s, %s) ON CONFLICT (account_id, phone)"
        " DO UPDATE SET opted_out = EXCLUDED.opted_out, updated_at = EXCLUDED.updated_at",
        (e.account_id, e.phone, opted_out, e.at),
    )
