"""A rebuild's way of applying a batch: the message events folded in Python, written set-based.

Replaying the log statement by statement costs PostgreSQL one or two statements per event
(docs/benchmarks.md), and the message events (Created, Attempted, Queued, StatusReported…)
are most of any log. During a rebuild nobody reads the schema being built, so a batch's
runs of message events are folded in memory instead: each touched message's row (and its
campaign recipient's columns) is loaded once, every event is applied to it in Python by
exactly the rules of its SQL handler in projections/handlers.py (forward-only status by
domain/status.py's RANK, the first time of each status, callbacks counted, the SID kept),
and the run's final rows are written with a COPY (new messages) and one UPDATE … FROM a
temporary table per table (messages and recipients already there).

An event of another kind that touches messages or recipients (a recipient batch, a
cancellation, a retry, anything not known to leave them alone) first writes out what was
folded, so it sees the rows as event-by-event application would have left them. A value
PostgreSQL would refuse (a NUL in a text, an integer out of range) is refused here too,
which makes the projector apply the batch event by event and record the culprit exactly as
the live projection does. The live follower never folds (projections/projector.py).
"""

import copy
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import JSONTranscoder
from psycopg import Cursor

from domain.status import RANK
from projections import handlers
from projections.handlers import ANALYZE_AFTER, HANDLERS, STATUS_TIME, Writes

# The handlers folded here, each by the function whose rules `_apply` repeats: should a
# handler be replaced (a test, a change), its events are applied by it, not folded.
FOLDED = {
    "Message.Created": handlers.message_created,
    "Message.Attempted": handlers.message_attempted,
    "Message.Queued": handlers.message_queued,
    "Message.Rejected": handlers.message_rejected,
    "Message.Deferred": handlers.message_deferred,
    "Message.Uncertain": handlers.message_uncertain,
    "Message.Suppressed": handlers.message_suppressed,
    "Message.StatusReported": handlers.message_status_reported,
}

# Events whose handlers touch neither messages nor recipients: they may be applied while
# message events before them are still folded. Any other event writes the fold out first.
COMMUTES = {
    "Account.Created",
    "Account.QuietHoursSet",
    "Account.OptInRequirementSet",
    "Account.HelpTextSet",
    "ApiKey.Created",
    "ApiKey.Revoked",
    "Agent.Created",
    "Agent.ResponderSet",
    "SenderNumber.Imported",
    "Campaign.Created",
    "Campaign.SuppressedWithoutOptIn",
    "Campaign.Launched",
    "Campaign.Started",
    "Campaign.Paused",
    "Campaign.Resumed",
    "Campaign.HeldForQuietHours",
    "Campaign.HoldEnded",
    "Campaign.Completed",
    "Campaign.Failed",
    "Consent.OptedOut",
    "Consent.OptedIn",
    "Consent.OptedBackIn",
    "Conversation.AnswerRequested",
    "Conversation.AnswerSent",
    "Conversation.AnswerFailed",
    "Conversation.MessageReceived",
}

# The messages table's columns and their types (a binary COPY: several times faster than
# text for the timestamps and ids).
TYPES = {
    "message_id": "uuid",
    "account_id": "uuid",
    "agent_id": "uuid",
    "campaign_id": "uuid",
    "recipient_index": "int4",
    "to_phone": "text",
    "from_number": "text",
    "body": "text",
    "segments": "int4",
    "encoding": "text",
    "status": "text",
    "twilio_sid": "text",
    "error_code": "int4",
    "error_message": "text",
    "created_at": "timestamptz",
    "queued_at": "timestamptz",
    "sent_at": "timestamptz",
    "delivered_at": "timestamptz",
    "undelivered_at": "timestamptz",
    "failed_at": "timestamptz",
    "updated_at": "timestamptz",
    "attempt_state": "text",
    "attempts": "int4",
    "attempted_at": "timestamptz",
    "attempted_by": "text",
    "next_attempt_at": "timestamptz",
    "callbacks": "int4",
}
COLUMNS = tuple(TYPES)
CHANGING = COLUMNS[10:14] + COLUMNS[15:]  # what message events change, all but the identity
RECIPIENT_COLUMNS = ("status", "twilio_sid", "error_code", "error_message", "updated_at")
RECIPIENT_TYPES = ["uuid", "int4", "uuid", "bool", "text", "text", "int4", "text", "timestamptz"]
INT4 = range(-(2**31), 2**31)


def apply_folded(cur: Cursor[Any], events: Sequence[Any], schema: str) -> None:
    """`handlers.apply_events`, with the runs of message events folded (see the module)."""
    writes = Writes(cur, schema)
    run: list[Any] = []
    added = 0
    try:
        for event in events:
            name = type(event).__qualname__
            handler = HANDLERS.get(name)
            if name in FOLDED and handler is FOLDED[name]:
                run.append(event)
                continue
            if run and name not in COMMUTES:
                _Fold(writes).write(run)
                run = []
            if handler is not None:
                handler(writes, event)
            if name == "RecipientBatch.Created":
                added += event.size
        if run:
            _Fold(writes).write(run)
    except BaseException as error:
        writes.finish(error)
        raise
    writes.finish()
    if added >= ANALYZE_AFTER:
        cur.execute(writes.in_schema("ANALYZE herald.recipients"))  # type: ignore[arg-type]


def _checked(value: Any) -> Any:
    """The value, unless PostgreSQL would refuse it (then the batch goes event by event)."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("a text with NUL, which PostgreSQL refuses")
    if isinstance(value, int) and not isinstance(value, bool) and value not in INT4:
        raise ValueError(f"{value} is out of range for an integer column")
    return value


RANK_OF = {status.value: rank for status, rank in RANK.items()}  # as herald.status_rank


def _rank(status: Any) -> int | None:
    return RANK_OF.get(status) if isinstance(status, str) else None


class _Fold:
    def __init__(self, writes: Writes) -> None:
        self.writes = writes
        self.rows: dict[UUID, dict[str, Any]] = {}  # every touched message, as it stands
        self.new: list[UUID] = []  # created by the run, in order
        self.old: set[UUID] = set()  # there before the run
        # A recipient's message (as the table has it) and, once a status reached it, its
        # status columns, by (campaign_id, idx).
        self.recipient_message: dict[tuple[Any, Any], Any] = {}
        self.recipient_status: dict[tuple[Any, Any], tuple[Any, ...]] = {}
        self.repointed: set[tuple[Any, Any]] = set()  # by a Created of the run

    def write(self, run: list[Any]) -> None:
        # A message's Created is its first event (an aggregate's version 1, once in the
        # log), so only those of messages created before the run are read; were one there
        # anyway, the COPY would fail on its key and the batch go event by event.
        created = {e.originator_id for e in run if type(e).__qualname__ == "Message.Created"}
        self._load({e.originator_id for e in run} - created)
        for event in run:
            self._apply(event)
        self._flush()

    def _load(self, ids: set[UUID]) -> None:
        if not ids:
            return
        found = self.writes.query(
            f"SELECT {', '.join('m.' + c for c in COLUMNS)}, r.message_id, r.campaign_id"
            " FROM herald.messages m LEFT JOIN herald.recipients r"
            " ON r.campaign_id = m.campaign_id AND r.idx = m.recipient_index"
            " WHERE m.message_id = ANY(%s)",
            (list(ids),),
        )
        for row in found:
            message = dict(zip(COLUMNS, row[: len(COLUMNS)], strict=True))
            self.rows[message["message_id"]] = message
            self.old.add(message["message_id"])
            if row[-1] is not None:  # the recipient row exists
                key = (message["campaign_id"], message["recipient_index"])
                self.recipient_message[key] = row[-2]

    def _apply(self, e: Any) -> None:
        name = type(e).__qualname__
        if name == "Message.Created":
            self._created(e)
            return
        message = self.rows.get(e.originator_id)
        if message is None:
            return  # an UPDATE of no row
        if name == "Message.Attempted":
            message["attempt_state"] = "in_flight"
            message["attempts"] = _checked(e.attempt)
            message["attempted_at"] = e.at
            message["attempted_by"] = _checked(e.dispatcher)
        elif name == "Message.Deferred":
            message["attempt_state"] = "retry"
            message["next_attempt_at"] = e.retry_at
            message["updated_at"] = e.at
        elif name == "Message.Uncertain":
            message["attempt_state"] = "uncertain"
            message["updated_at"] = e.at
        elif name == "Message.Queued":
            self._status(message, e, "queued", None, twilio_sid=e.twilio_sid, attempt_state="done")
        elif name == "Message.Rejected":
            self._status(
                message,
                e,
                "failed",
                None,
                attempt_state="done",
                error_code=e.error_code,
                error_message=e.error_message,
            )
        elif name == "Message.Suppressed":
            self._status(
                message, e, "suppressed", None, attempt_state="done", error_message=e.reason
            )
        else:  # Message.StatusReported
            columns: dict[str, Any] = {}
            if e.error_code is not None:
                columns = {"error_code": e.error_code, "error_message": e.error_message}
            self._status(message, e, e.herald_status, e.twilio_sid, **columns)

    def _created(self, e: Any) -> None:
        """INSERT … ON CONFLICT DO NOTHING, and the recipient pointed at the message."""
        if e.originator_id in self.rows:
            return
        message = {
            "message_id": e.originator_id,
            "account_id": e.account_id,
            "agent_id": e.agent_id,
            "campaign_id": e.campaign_id,
            "recipient_index": _checked(e.recipient_index),
            "to_phone": _checked(e.to),
            "from_number": _checked(e.from_number),
            "body": _checked(e.body),
            "segments": _checked(e.segments),
            "encoding": _checked(e.encoding),
            "status": "pending",
            "twilio_sid": None,
            "error_code": None,
            "error_message": None,
            "created_at": e.created_at,
            "queued_at": None,
            "sent_at": None,
            "delivered_at": None,
            "undelivered_at": None,
            "failed_at": None,
            "updated_at": e.created_at,
            "attempt_state": "in_flight" if e.attempted_by else "new",
            "attempts": 1 if e.attempted_by else 0,
            "attempted_at": e.created_at if e.attempted_by else None,
            "attempted_by": _checked(e.attempted_by),
            "next_attempt_at": e.not_before or e.created_at,
            "callbacks": 0,
        }
        self.rows[e.originator_id] = message
        self.new.append(e.originator_id)
        if e.campaign_id is not None and e.recipient_index is not None:
            # The table's recipient, if there is one, now names this message.
            key = (e.campaign_id, e.recipient_index)
            self.recipient_message[key] = e.originator_id
            self.repointed.add(key)

    def _status(
        self, message: dict[str, Any], e: Any, status: str, reported_sid: Any, **columns: Any
    ) -> None:
        """handlers._message_status, whose assignments all read the row as it was: each
        column is assigned once, from the event's values and its own old value."""
        new_rank, old_rank = _rank(_checked(status)), _rank(message["status"])
        if new_rank is not None and old_rank is not None and new_rank > old_rank:
            message["status"] = status
        message["updated_at"] = e.at
        column = STATUS_TIME.get(status)
        if column is not None and message[column] is None:
            message[column] = e.at
        if reported_sid is not None:
            message["callbacks"] = _checked(message["callbacks"] + 1)
            if message["twilio_sid"] is None and _checked(reported_sid) != "":
                message["twilio_sid"] = reported_sid
        for name, value in columns.items():
            message[name] = _checked(value)
        key = (message["campaign_id"], message["recipient_index"])
        if self.recipient_message.get(key, None) == message["message_id"]:
            self.recipient_status[key] = (  # RECIPIENT_COLUMNS
                message["status"],
                message["twilio_sid"],
                message["error_code"],
                message["error_message"],
                message["updated_at"],
            )

    def _flush(self) -> None:
        writes = self.writes
        if self.new:
            with writes.copy(
                f"COPY herald.messages ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(list(TYPES.values()))
                for message_id in self.new:
                    message = self.rows[message_id]
                    copy.write_row(tuple(message[c] for c in COLUMNS))
        if self.old:
            self._temp("herald_fold_messages", "(LIKE herald.messages)")
            with writes.copy(
                f"COPY herald_fold_messages ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(list(TYPES.values()))
                for message_id in self.old:
                    message = self.rows[message_id]
                    copy.write_row(tuple(message[c] for c in COLUMNS))
            assignments = ", ".join(f"{c} = f.{c}" for c in CHANGING)
            self._run(
                f"UPDATE herald.messages m SET {assignments} FROM herald_fold_messages f"
                " WHERE m.message_id = f.message_id"
            )
        touched = self.repointed | set(self.recipient_status)
        if touched:
            self._temp(
                "herald_fold_recipients",
                "(campaign_id uuid, idx integer, message_id uuid, reached boolean, status text,"
                " twilio_sid text, error_code integer, error_message text,"
                " updated_at timestamptz)",
            )
            with writes.copy(
                "COPY herald_fold_recipients (campaign_id, idx, message_id, reached, status,"
                " twilio_sid, error_code, error_message, updated_at) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(RECIPIENT_TYPES)
                for key in touched:
                    message_id = self.recipient_message[key]
                    status = self.recipient_status.get(key)
                    copy.write_row((*key, message_id, status is not None, *(status or (None,) * 5)))
            kept = ", ".join(
                f"{c} = CASE WHEN f.reached THEN f.{c} ELSE r.{c} END" for c in RECIPIENT_COLUMNS
            )
            self._run(
                f"UPDATE herald.recipients r SET message_id = f.message_id, {kept}"
                " FROM herald_fold_recipients f WHERE r.campaign_id = f.campaign_id"
                " AND r.idx = f.idx"
            )

    def _temp(self, name: str, columns: str) -> None:
        """An empty temporary table, gone at the end of the transaction."""
        self._run(f"CREATE TEMP TABLE IF NOT EXISTS {name} {columns} ON COMMIT DROP")
        self._run(f"TRUNCATE {name}")

    def _run(self, statement: str) -> None:
        self.writes.finish()
        self.writes.cur.execute(self.writes.in_schema(statement))  # type: ignore[arg-type]


class _FastJSON:
    """eventsourcing's JSONTranscoder.decode, with msgspec parsing the JSON (~40% faster in
    a rebuild): the same dicts, each `{"_type_", "_data_"}` one turned into its value by the
    same transcodings. Whatever msgspec does not take as json does (NaN, a lone surrogate)
    goes to the transcoder itself."""

    def __init__(self, transcoder: Any) -> None:
        self.transcoder = transcoder
        self.names = transcoder.names
        self.decoder = msgspec.json.Decoder()

    def encode(self, obj: Any) -> bytes:
        return bytes(self.transcoder.encode(obj))

    def decode(self, data: bytes) -> Any:
        try:
            return self._walk(self.decoder.decode(data))
        except Exception:
            return self.transcoder.decode(data)

    def _walk(self, value: Any) -> Any:
        if type(value) is dict:
            for key, item in value.items():
                if type(item) is dict or type(item) is list:
                    value[key] = self._walk(item)
            if len(value) == 2 and "_type_" in value and "_data_" in value:
                return self.names[value["_type_"]].decode(value["_data_"])
            return value
        if type(value) is list:
            return [self._walk(v) if type(v) is dict or type(v) is list else v for v in value]
        return value


def fast_mapper(mapper: Any) -> Any:
    """A copy of the store's mapper that decodes with `_FastJSON` (if it is eventsourcing's
    JSON transcoder; otherwise the mapper itself)."""
    if type(mapper.transcoder) is not JSONTranscoder:
        return mapper
    fast = copy.copy(mapper)
    fast.transcoder = _FastJSON(mapper.transcoder)
    return fast
