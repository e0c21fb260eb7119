"""How each event changes the read models. Called inside the projector's transaction."""

from collections.abc import Callable, Sequence
from typing import Any

import msgspec
from psycopg import Cursor
from psycopg.types.json import Jsonb

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
    encode = msgspec.json.encode
    with cur.copy(
        "COPY herald.recipients (campaign_id, idx, phone, variables, status, updated_at) FROM STDIN"
    ) as copy:
        # Plain text COPY: the JSON text of the variables is parsed by the jsonb column.
        for offset, (phone, variables, status) in enumerate(msgspec.json.decode(e.recipients)):
            copy.write_row(
                (
                    e.campaign_id,
                    e.first_index + offset,
                    phone,
                    encode(variables).decode(),
                    status,
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
    cur.execute(
        "UPDATE herald.campaigns SET status = %s, updated_at = %s WHERE campaign_id = %s",
        ("scheduled" if e.scheduled else "running", e.at, e.originator_id),
    )


@handles("Message.Created")
def message_created(cur: Cursor[Any], e: Any) -> None:
    cur.execute(
        "INSERT INTO herald.messages (message_id, account_id, agent_id, campaign_id,"
        " recipient_index, to_phone, from_number, body, segments, encoding, status,"
        " created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
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
            RecipientStatus.PENDING,
            e.created_at,
            e.created_at,
        ),
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
