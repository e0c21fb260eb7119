"""How each event changes the read models. Called inside the projector's transaction."""

from collections.abc import Callable, Sequence
from typing import Any

import msgspec
from psycopg import Cursor
from psycopg.types.json import Jsonb

from domain.quiet_hours import DEFAULT_QUIET_HOURS
from domain.schedule import in_utc
from domain.sending import sender_for
from domain.status import RecipientStatus

LIVE_SCHEMA = "herald"  # where the read models the API and analysts use live


class Writes:
    """The projector's cursor for handlers: runs of the same statement are sent together
    with `executemany`, and every statement of a batch goes in one pipeline (one round trip,
    not one per statement: a message's Created, Queued and StatusReported alternate in the
    log), which is what lets a batch of thousands of events be applied in one short
    transaction. Statements still run in the order they were given; a COPY or a query
    waits for what was sent before it.

    Handlers name the live tables (`herald.…`); a rebuild builds the same tables in a
    schema of its own beside them, and its statements are pointed there, in this one place."""

    def __init__(self, cur: Cursor[Any], schema: str = LIVE_SCHEMA) -> None:
        self.cur = cur
        self.schema = schema
        self._sql: str | None = None
        self._rows: list[Sequence[Any] | dict[str, Any]] = []
        self._pipeline: Any = None

    def in_schema(self, sql: str) -> str:
        return sql if self.schema == LIVE_SCHEMA else sql.replace("herald.", f"{self.schema}.")

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> None:
        sql = self.in_schema(sql)
        if sql != self._sql:
            self.flush()
            self._sql = sql
        self._rows.append(params)

    def flush(self) -> None:
        if self._sql is not None and self._rows:
            if self._pipeline is None:
                self._pipeline = self.cur.connection.pipeline()
                self._pipeline.__enter__()
            self.cur.executemany(self._sql, self._rows)  # type: ignore[arg-type]
        self._sql, self._rows = None, []

    def finish(self, error: BaseException | None = None) -> None:
        """Send what is left and wait for every statement's result (raising the first
        error); after `error`, only end the pipeline."""
        if error is None:
            self.flush()
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            if error is None:
                pipeline.__exit__(None, None, None)
            else:
                pipeline.__exit__(type(error), error, error.__traceback__)

    def query(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        self.finish()
        return self.cur.execute(self.in_schema(sql), params).fetchall()  # type: ignore[arg-type]

    def copy(self, sql: str) -> Any:
        self.finish()  # COPY cannot run in a pipeline
        return self.cur.copy(self.in_schema(sql))  # type: ignore[arg-type]


Handler = Callable[[Writes, Any], None]
HANDLERS: dict[str, Handler] = {}  # by event name, e.g. "Campaign.Cancelled"


def handles(event_name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[event_name] = handler
        return handler

    return register


ANALYZE_AFTER = 10_000  # recipients added in one batch of events


def apply_events(cur: Cursor[Any], events: Sequence[Any], schema: str = LIVE_SCHEMA) -> None:
    writes = Writes(cur, schema)
    added = 0
    try:
        for event in events:
            handler = HANDLERS.get(type(event).__qualname__)
            if handler is not None:
                handler(writes, event)
            if type(event).__qualname__ == "RecipientBatch.Created":
                added += event.size
    except BaseException as error:
        writes.finish(error)
        raise
    writes.finish()
    if added >= ANALYZE_AFTER:
        # Fresh statistics at once, or the planner may page a new large campaign's
        # recipients with a bitmap scan and a sort of all of them (20 ms instead of 0.1 ms)
        # until autovacuum gets round to it.
        cur.execute(writes.in_schema("ANALYZE herald.recipients"))  # type: ignore[arg-type]


@handles("Account.Created")
def account_created(cur: Writes, e: Any) -> None:
    # An account holds the default window until a QuietHoursSet says otherwise.
    cur.execute(
        "INSERT INTO herald.accounts (account_id, name, created_at, quiet_hours_start,"
        " quiet_hours_end) VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (
            e.originator_id,
            e.name,
            e.timestamp,
            DEFAULT_QUIET_HOURS.start,
            DEFAULT_QUIET_HOURS.end,
        ),
    )


@handles("Account.QuietHoursSet")
def quiet_hours_set(cur: Writes, e: Any) -> None:
    cur.execute(
        "UPDATE herald.accounts SET quiet_hours_start = %s, quiet_hours_end = %s"
        " WHERE account_id = %s",
        (e.start, e.end, e.originator_id),
    )


@handles("Account.OptInRequirementSet")
def opt_in_requirement_set(cur: Writes, e: Any) -> None:
    cur.execute(
        "UPDATE herald.accounts SET require_opt_in = %s WHERE account_id = %s",
        (e.required, e.originator_id),
    )


@handles("ApiKey.Created")
def key_created(cur: Writes, e: Any) -> None:
    cur.execute(
        "INSERT INTO herald.api_keys VALUES (%s, %s, %s, false, %s) ON CONFLICT DO NOTHING",
        (e.originator_id, e.account_id, e.secret_hash, e.timestamp),
    )


@handles("ApiKey.Revoked")
def key_revoked(cur: Writes, e: Any) -> None:
    cur.execute("UPDATE herald.api_keys SET revoked = true WHERE key_id = %s", (e.originator_id,))


@handles("Agent.Created")
def agent_created(cur: Writes, e: Any) -> None:
    cur.execute(
        "INSERT INTO herald.agents (agent_id, account_id, name, system_prompt, created_at)"
        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (e.originator_id, e.account_id, e.name, e.system_prompt, e.timestamp),
    )


@handles("Agent.ResponderSet")
def responder_set(cur: Writes, e: Any) -> None:
    cur.execute(
        "UPDATE herald.agents SET responder_kind = %s, responder_url = %s WHERE agent_id = %s",
        (e.kind, e.url, e.originator_id),
    )


@handles("SenderNumber.Imported")
def number_imported(cur: Writes, e: Any) -> None:
    cur.execute(
        "INSERT INTO herald.sender_numbers VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (e.originator_id, e.account_id, e.agent_id, e.phone_number, e.mps, e.timestamp),
    )


@handles("Campaign.Created")
def campaign_created(cur: Writes, e: Any) -> None:
    if e.scheduled_at is not None and in_utc(e.scheduled_at) is None:
        # Recorded before schedules were checked: PostgreSQL would store it, but no read
        # of that row could load it back into Python.
        raise ValueError(f"scheduled_at {e.scheduled_at.isoformat()} is past year 9999 in UTC")
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
            e.status,
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
def recipients_added(cur: Writes, e: Any) -> None:
    rows = msgspec.json.decode(e.recipients)
    if rows and rows[0][3] is None:
        rows = _routed_as_before(cur, e.campaign_id, rows)
    with cur.copy(
        "COPY herald.recipients (campaign_id, idx, phone, variables, status, from_number,"
        " updated_at) FROM STDIN"
    ) as copy:
        # Plain text COPY: the JSON text of the variables is parsed by the jsonb column.
        for offset, (phone, variables, status, from_number) in enumerate(rows):
            copy.write_row(
                (
                    e.campaign_id,
                    e.first_index + offset,
                    phone,
                    msgspec.json.encode(variables).decode(),
                    status,
                    from_number,
                    e.timestamp,
                )
            )


def _routed_as_before(cur: Writes, campaign_id: Any, rows: list[list[Any]]) -> list[list[Any]]:
    """A batch recorded before batches carried each recipient's number (upcast from v1,
    see domain/campaign.py): its numbers are chosen as the projection chose them then."""
    found = cur.query(
        "SELECT from_numbers FROM herald.campaigns WHERE campaign_id = %s", (campaign_id,)
    )
    pool: list[str] = found[0][0] if found else []
    return [
        [phone, variables, status, sender_for(phone, pool)] for phone, variables, status, _ in rows
    ]


@handles("Campaign.SuppressedWithoutOptIn")
def campaign_suppressed_without_opt_in(cur: Writes, e: Any) -> None:
    cur.execute(
        "UPDATE herald.campaigns SET no_opt_in = %s WHERE campaign_id = %s",
        (Jsonb(e.phones), e.originator_id),
    )


@handles("Campaign.Cancelled")
def campaign_cancelled(cur: Writes, e: Any) -> None:
    cur.execute(
        # A cancelled campaign is no longer paused, for whatever reason it was.
        "UPDATE herald.campaigns SET status = 'cancelled', paused_reason = NULL, updated_at = %s"
        " WHERE campaign_id = %s",
        (e.at, e.originator_id),
    )
    cur.execute(
        "UPDATE herald.recipients SET status = %s, updated_at = %s"
        " WHERE campaign_id = %s AND status = %s",
        (RecipientStatus.CANCELLED, e.at, e.originator_id, RecipientStatus.PENDING),
    )


@handles("Campaign.Launched")
def campaign_launched(cur: Writes, e: Any) -> None:
    _campaign_status(cur, e, "scheduled" if e.scheduled else "running")


@handles("Campaign.Started")
def campaign_started(cur: Writes, e: Any) -> None:
    _campaign_status(cur, e, "running")


@handles("Campaign.Paused")
def campaign_paused(cur: Writes, e: Any) -> None:
    _campaign_status(cur, e, "paused", paused_reason=e.reason)


@handles("Campaign.Resumed")
def campaign_resumed(cur: Writes, e: Any) -> None:
    _campaign_status(cur, e, e.status, paused_reason=None)


@handles("Campaign.HeldForQuietHours")
def campaign_held(cur: Writes, e: Any) -> None:
    cur.execute(
        "UPDATE herald.campaigns SET held_until = %s WHERE campaign_id = %s",
        (e.until, e.originator_id),
    )


@handles("Campaign.HoldEnded")
def campaign_hold_ended(cur: Writes, e: Any) -> None:
    cur.execute(
        "UPDATE herald.campaigns SET held_until = NULL WHERE campaign_id = %s", (e.originator_id,)
    )


@handles("Campaign.Completed")
def campaign_completed(cur: Writes, e: Any) -> None:
    _campaign_status(cur, e, "done", finished_at=e.at)


@handles("Campaign.Failed")
def campaign_failed(cur: Writes, e: Any) -> None:
    _campaign_status(cur, e, "failed", finished_at=e.at)


@handles("Campaign.RetryRequested")
def campaign_retry_requested(cur: Writes, e: Any) -> None:
    _campaign_status(cur, e, "running", finished_at=None, retry_round=e.round_)
    cur.execute(
        "UPDATE herald.recipients SET status = 'pending', message_id = NULL, twilio_sid = NULL,"
        " error_code = NULL, error_message = NULL, round = %s, updated_at = %s"
        " WHERE campaign_id = %s AND status = ANY(%s) AND error_code = ANY(%s)",
        (e.round_, e.at, e.originator_id, e.statuses, e.error_codes),
    )


def _campaign_status(cur: Writes, e: Any, status: str, **columns: Any) -> None:
    assignments = "".join(f", {name} = %s" for name in columns)
    cur.execute(
        f"UPDATE herald.campaigns SET status = %s, updated_at = %s{assignments}"
        " WHERE campaign_id = %s",
        (status, e.at, *columns.values(), e.originator_id),
    )


@handles("Message.Created")
def message_created(cur: Writes, e: Any) -> None:
    cur.execute(
        "WITH m AS (INSERT INTO herald.messages (message_id, account_id, agent_id, campaign_id,"
        " recipient_index, to_phone, from_number, body, segments, encoding, status, created_at,"
        " updated_at, next_attempt_at, attempt_state, attempts, attempted_at, attempted_by)"
        " VALUES"
        " (%(id)s, %(account)s, %(agent)s, %(campaign)s, %(index)s, %(to)s, %(from)s, %(body)s,"
        " %(segments)s, %(encoding)s, 'pending', %(at)s, %(at)s, %(not_before)s, %(state)s,"
        " %(attempts)s, %(attempted_at)s, %(attempted_by)s) ON CONFLICT DO NOTHING"
        " RETURNING message_id, campaign_id, recipient_index)"
        " UPDATE herald.recipients r SET message_id = m.message_id FROM m"
        " WHERE r.campaign_id = m.campaign_id AND r.idx = m.recipient_index",
        {
            "id": e.originator_id,
            "account": e.account_id,
            "agent": e.agent_id,
            "campaign": e.campaign_id,
            "index": e.recipient_index,
            "to": e.to,
            "from": e.from_number,
            "body": e.body,
            "segments": e.segments,
            "encoding": e.encoding,
            "at": e.created_at,
            "not_before": e.not_before or e.created_at,
            "state": "in_flight" if e.attempted_by else "new",
            "attempts": 1 if e.attempted_by else 0,
            "attempted_at": e.created_at if e.attempted_by else None,
            "attempted_by": e.attempted_by,
        },
    )


@handles("Message.Attempted")
def message_attempted(cur: Writes, e: Any) -> None:
    cur.execute(
        "UPDATE herald.messages SET attempt_state = 'in_flight', attempts = %s,"
        " attempted_at = %s, attempted_by = %s WHERE message_id = %s",
        (e.attempt, e.at, e.dispatcher, e.originator_id),
    )


@handles("Message.Queued")
def message_queued(cur: Writes, e: Any) -> None:
    _message_status(cur, e, "queued", twilio_sid=e.twilio_sid, attempt_state="done")


@handles("Message.Rejected")
def message_rejected(cur: Writes, e: Any) -> None:
    _message_status(
        cur,
        e,
        "failed",
        attempt_state="done",
        error_code=e.error_code,
        error_message=e.error_message,
    )


@handles("Message.Deferred")
def message_deferred(cur: Writes, e: Any) -> None:
    cur.execute(
        "UPDATE herald.messages SET attempt_state = 'retry', next_attempt_at = %s,"
        " updated_at = %s WHERE message_id = %s",
        (e.retry_at, e.at, e.originator_id),
    )


@handles("Message.Uncertain")
def message_uncertain(cur: Writes, e: Any) -> None:
    cur.execute(
        "UPDATE herald.messages SET attempt_state = 'uncertain', updated_at = %s"
        " WHERE message_id = %s",
        (e.at, e.originator_id),
    )


@handles("Message.Suppressed")
def message_suppressed(cur: Writes, e: Any) -> None:
    # Its phone opted out before it was submitted: never sent, counted as suppressed.
    _message_status(cur, e, "suppressed", attempt_state="done", error_message=e.reason)


@handles("Message.StatusReported")
def message_status_reported(cur: Writes, e: Any) -> None:
    columns: dict[str, Any] = {}
    if e.error_code is not None:
        columns = {"error_code": e.error_code, "error_message": e.error_message}
    _message_status(cur, e, e.herald_status, reported_sid=e.twilio_sid, **columns)


STATUS_TIME = {
    "queued": "queued_at",
    "sent": "sent_at",
    "delivered": "delivered_at",
    "undelivered": "undelivered_at",
    "failed": "failed_at",
}


def _message_status(
    cur: Writes, e: Any, status: str, reported_sid: str | None = None, **columns: Any
) -> None:
    """Move a message (and its campaign recipient) forward to `status`, never backward, in
    one statement; the first time of each status is kept."""
    assignments = [
        "status = CASE WHEN herald.status_rank(%(status)s) > herald.status_rank(status)"
        " THEN %(status)s ELSE status END",
        "updated_at = %(at)s",
    ]
    if status in STATUS_TIME:
        assignments.append(f"{STATUS_TIME[status]} = coalesce({STATUS_TIME[status]}, %(at)s)")
    if reported_sid is not None:  # a status callback: counted, and its SID kept if new
        assignments.append("callbacks = callbacks + 1")
        assignments.append("twilio_sid = coalesce(twilio_sid, nullif(%(reported_sid)s, ''))")
    assignments += [f"{name} = %({name})s" for name in columns]
    cur.execute(
        f"WITH m AS (UPDATE herald.messages SET {', '.join(assignments)}"
        " WHERE message_id = %(id)s RETURNING message_id, campaign_id, recipient_index, status,"
        " twilio_sid, error_code, error_message, updated_at)"
        " UPDATE herald.recipients r SET status = m.status, twilio_sid = m.twilio_sid,"
        " error_code = m.error_code, error_message = m.error_message, updated_at = m.updated_at"
        " FROM m WHERE r.campaign_id = m.campaign_id AND r.idx = m.recipient_index"
        " AND r.message_id = m.message_id",
        {"status": status, "at": e.at, "id": e.originator_id, "reported_sid": reported_sid}
        | columns,
    )


@handles("Consent.OptedOut")
def opted_out(cur: Writes, e: Any) -> None:
    cur.execute(
        "INSERT INTO herald.consents AS c (account_id, phone, opted_out, updated_at,"
        " opted_out_at, last_keyword, opt_out_source, opt_out_evidence, opt_outs)"
        " VALUES (%s, %s, true, %s, %s, %s, %s, %s, 1) ON CONFLICT (account_id, phone)"
        " DO UPDATE SET opted_out = true, has_opt_in = false, updated_at = EXCLUDED.updated_at,"
        " opted_out_at = EXCLUDED.opted_out_at, last_keyword = EXCLUDED.last_keyword,"
        " opt_out_source = EXCLUDED.opt_out_source, opt_out_evidence = EXCLUDED.opt_out_evidence,"
        " opt_outs = c.opt_outs + 1",
        (e.account_id, e.phone, e.timestamp, e.at, e.keyword, e.source, e.evidence),
    )


@handles("Consent.OptedIn")
def opted_in(cur: Writes, e: Any) -> None:
    _opted_in(cur, e, back=False)


@handles("Consent.OptedBackIn")
def opted_back_in(cur: Writes, e: Any) -> None:
    _opted_in(cur, e, back=True)


def _opted_in(cur: Writes, e: Any, back: bool) -> None:
    """`opted_back_in`: the opt-in held now came after an opt-out (an OptedIn recorded
    before OptedBackIn existed counts when the row says it was opted out)."""
    cur.execute(
        "INSERT INTO herald.consents AS c (account_id, phone, opted_out, updated_at, has_opt_in,"
        " opted_in_at, opt_in_source, opt_in_evidence, opted_back_in, opt_ins)"
        " VALUES (%s, %s, false, %s, true, %s, %s, %s, %s, 1) ON CONFLICT (account_id, phone)"
        " DO UPDATE SET opted_back_in = EXCLUDED.opted_back_in OR c.opted_out,"
        " opted_out = false, has_opt_in = true, updated_at = EXCLUDED.updated_at,"
        " opted_in_at = EXCLUDED.opted_in_at, opt_in_source = EXCLUDED.opt_in_source,"
        " opt_in_evidence = EXCLUDED.opt_in_evidence, opt_ins = c.opt_ins + 1",
        (e.account_id, e.phone, e.timestamp, e.at, e.source, e.evidence, back),
    )


@handles("Conversation.AnswerRequested")
def answer_requested(cur: Writes, e: Any) -> None:
    cur.execute(
        "UPDATE herald.conversations SET answer_requested_at = %s WHERE conversation_id = %s",
        (e.at, e.originator_id),
    )
    cur.execute(
        "INSERT INTO herald.answers (request_id, conversation_id, account_id, responder,"
        " requested_by, requested_at, up_to, outcome) SELECT %s, conversation_id, account_id,"
        " %s, %s, %s, %s, 'requested' FROM herald.conversations WHERE conversation_id = %s"
        " ON CONFLICT DO NOTHING",
        (e.request_id, e.responder, e.by, e.at, e.up_to, e.originator_id),
    )


@handles("Conversation.AnswerSent")
def answer_sent(cur: Writes, e: Any) -> None:
    cur.execute(
        "UPDATE herald.conversations SET answer_requested_at = NULL, awaiting_reply_since = %s,"
        " last_activity_at = greatest(last_activity_at, %s), last_answer_status = 'sent',"
        " last_answer_error = NULL, answers_sent = answers_sent + 1 WHERE conversation_id = %s",
        (e.awaiting_reply_since, e.at, e.originator_id),
    )
    cur.execute(
        "UPDATE herald.answers SET outcome = 'sent', outcome_at = %s, message_id = %s,"
        " turns = %s, omitted = %s WHERE request_id = %s",
        (e.at, e.message_id, e.turns, e.omitted, e.request_id),
    )


@handles("Conversation.AnswerFailed")
def answer_failed(cur: Writes, e: Any) -> None:
    cur.execute(
        "UPDATE herald.conversations SET answer_requested_at = NULL, awaiting_reply_since = %s,"
        " last_activity_at = greatest(last_activity_at, %s), last_answer_status = 'failed',"
        " last_answer_error = %s, answers_failed = answers_failed + 1"
        " WHERE conversation_id = %s",
        (e.awaiting_reply_since, e.at, f"{e.code}: {e.reason}", e.originator_id),
    )
    cur.execute(
        "UPDATE herald.answers SET outcome = 'failed', outcome_at = %s, error_code = %s,"
        " error = %s WHERE request_id = %s",
        (e.at, e.code, e.reason, e.request_id),
    )


@handles("Conversation.MessageReceived")
def conversation_message_received(cur: Writes, e: Any) -> None:
    # One statement: the message, and its conversation made or moved on.
    cur.execute(
        "WITH i AS (INSERT INTO herald.inbound_messages (conversation_id, twilio_sid,"
        " account_id, agent_id, from_phone, to_number, body, kind, keyword, received_at,"
        " in_reply_to) VALUES (%(id)s, %(sid)s, %(account)s, %(agent)s, %(phone)s, %(number)s,"
        " %(body)s, %(kind)s, %(keyword)s, %(at)s, %(reply_to)s) ON CONFLICT DO NOTHING)"
        " INSERT INTO herald.conversations AS c (conversation_id, account_id, agent_id, number,"
        " phone, started_at, last_activity_at, last_inbound_at, inbound_count, last_kind,"
        " awaiting_reply_since) VALUES (%(id)s, %(account)s, %(agent)s, %(number)s, %(phone)s,"
        " %(at)s, %(at)s, %(at)s, 1, %(kind)s, %(awaiting)s) ON CONFLICT (conversation_id)"
        " DO UPDATE SET last_activity_at = greatest(c.last_activity_at, EXCLUDED.last_activity_at),"
        " last_inbound_at = greatest(c.last_inbound_at, EXCLUDED.last_inbound_at),"
        " inbound_count = c.inbound_count + 1, last_kind = EXCLUDED.last_kind,"
        " awaiting_reply_since = coalesce(c.awaiting_reply_since, EXCLUDED.awaiting_reply_since)",
        {
            "id": e.originator_id,
            "sid": e.twilio_sid,
            "account": e.account_id,
            "agent": e.agent_id,
            "phone": e.phone,
            "number": e.number,
            "body": e.body,
            "kind": e.kind,
            "keyword": e.keyword or None,
            "at": e.received_at,
            "reply_to": e.in_reply_to,
            "awaiting": e.received_at if e.awaits_answer else None,
        },
    )


@handles("Account.HelpTextSet")
def help_text_set(cur: Writes, e: Any) -> None:
    cur.execute(
        "UPDATE herald.accounts SET help_text = %s WHERE account_id = %s",
        (e.text, e.originator_id),
    )
