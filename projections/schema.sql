-- Herald's read models. Every table here is derived from the event log and can be
-- dropped and rebuilt (`herald projections rebuild`). Documented in docs/read-models.md.
CREATE SCHEMA IF NOT EXISTS herald;

CREATE TABLE IF NOT EXISTS herald.projection_tracking (
    name text PRIMARY KEY,
    position bigint NOT NULL
);

-- Events the read models could not take (the projection skipped them, see projector.py).
CREATE TABLE IF NOT EXISTS herald.projection_failures (
    notification_id bigint PRIMARY KEY,
    originator_id uuid NOT NULL,
    topic text NOT NULL,
    error text NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS herald.accounts (
    account_id uuid PRIMARY KEY,
    name text NOT NULL,
    created_at timestamptz NOT NULL,
    quiet_hours_start time,  -- the account's quiet hours (recipient's local time); NULL: off
    quiet_hours_end time
);
ALTER TABLE herald.accounts ADD COLUMN IF NOT EXISTS quiet_hours_start time DEFAULT '21:00',
    ADD COLUMN IF NOT EXISTS quiet_hours_end time DEFAULT '09:00';

CREATE TABLE IF NOT EXISTS herald.api_keys (
    key_id uuid PRIMARY KEY,
    account_id uuid NOT NULL,
    secret_hash text NOT NULL,
    revoked boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS herald.agents (
    agent_id uuid PRIMARY KEY,
    account_id uuid NOT NULL,
    name text NOT NULL,
    system_prompt text NOT NULL,
    created_at timestamptz NOT NULL,
    responder_kind text NOT NULL DEFAULT 'none',  -- who answers replies: none, webhook, openai
    responder_url text  -- a webhook responder's URL
);
ALTER TABLE herald.agents ADD COLUMN IF NOT EXISTS responder_kind text NOT NULL DEFAULT 'none',
    ADD COLUMN IF NOT EXISTS responder_url text;
CREATE INDEX IF NOT EXISTS agents_by_account ON herald.agents (account_id, created_at);

CREATE TABLE IF NOT EXISTS herald.sender_numbers (
    number_id uuid PRIMARY KEY,
    account_id uuid NOT NULL,
    agent_id uuid NOT NULL,
    phone_number text NOT NULL UNIQUE,
    mps integer NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS sender_numbers_by_account ON herald.sender_numbers (account_id);

CREATE TABLE IF NOT EXISTS herald.campaigns (
    campaign_id uuid PRIMARY KEY,
    account_id uuid NOT NULL,
    agent_id uuid NOT NULL,
    name text NOT NULL,
    message_template text NOT NULL,
    from_numbers text[] NOT NULL,
    status text NOT NULL,
    source text NOT NULL,
    schedule_type text NOT NULL,
    scheduled_at timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    recipient_count integer NOT NULL,
    segments_total integer NOT NULL,
    duplicates_removed integer NOT NULL,
    skipped jsonb NOT NULL,
    warnings jsonb NOT NULL,
    paused_reason text,
    finished_at timestamptz,
    retry_round integer NOT NULL DEFAULT 0,
    held_until timestamptz  -- waiting for quiet hours to end, until then
);
ALTER TABLE herald.campaigns ADD COLUMN IF NOT EXISTS held_until timestamptz;
CREATE INDEX IF NOT EXISTS campaigns_by_status ON herald.campaigns (status, scheduled_at);
CREATE INDEX IF NOT EXISTS campaigns_by_account
    ON herald.campaigns (account_id, created_at DESC, campaign_id DESC);

CREATE TABLE IF NOT EXISTS herald.recipients (
    campaign_id uuid NOT NULL,
    idx integer NOT NULL,
    phone text NOT NULL,
    variables jsonb NOT NULL,
    status text NOT NULL,
    from_number text NOT NULL,
    round integer NOT NULL DEFAULT 0,
    message_id uuid,
    twilio_sid text,
    error_code integer,
    error_message text,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (campaign_id, idx)
);
CREATE INDEX IF NOT EXISTS recipients_by_status ON herald.recipients (campaign_id, status, idx);
-- The dispatcher's queue: recipients of a campaign, per sender number, not yet submitted.
CREATE INDEX IF NOT EXISTS recipients_due ON herald.recipients (campaign_id, from_number, idx)
    WHERE status = 'pending' AND message_id IS NULL;

-- One count per (campaign, recipient status), kept by the database itself from the
-- recipients table in the same statement, so it always equals a GROUP BY over it.
CREATE TABLE IF NOT EXISTS herald.campaign_status_counts (
    campaign_id uuid NOT NULL,
    status text NOT NULL,
    n integer NOT NULL,
    PRIMARY KEY (campaign_id, status)
);

CREATE OR REPLACE FUNCTION herald.count_recipients_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO herald.campaign_status_counts AS c (campaign_id, status, n)
    SELECT campaign_id, status, count(*) FROM new_rows GROUP BY campaign_id, status
    ON CONFLICT (campaign_id, status) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION herald.count_recipients_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO herald.campaign_status_counts AS c (campaign_id, status, n)
    SELECT campaign_id, status, sum(d) FROM (
        SELECT campaign_id, status, 1 AS d FROM new_rows
        UNION ALL
        SELECT campaign_id, status, -1 AS d FROM old_rows
    ) AS changes
    GROUP BY campaign_id, status
    HAVING sum(d) <> 0
    ON CONFLICT (campaign_id, status) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION herald.count_recipients_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE herald.campaign_status_counts AS c SET n = c.n - gone.n
    FROM (SELECT campaign_id, status, count(*) AS n FROM old_rows GROUP BY 1, 2) AS gone
    WHERE c.campaign_id = gone.campaign_id AND c.status = gone.status;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS recipients_inserted ON herald.recipients;
CREATE TRIGGER recipients_inserted AFTER INSERT ON herald.recipients
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION herald.count_recipients_inserted();
DROP TRIGGER IF EXISTS recipients_updated ON herald.recipients;
CREATE TRIGGER recipients_updated AFTER UPDATE ON herald.recipients
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION herald.count_recipients_updated();
DROP TRIGGER IF EXISTS recipients_deleted ON herald.recipients;
CREATE TRIGGER recipients_deleted AFTER DELETE ON herald.recipients
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION herald.count_recipients_deleted();

CREATE TABLE IF NOT EXISTS herald.messages (
    message_id uuid PRIMARY KEY,
    account_id uuid NOT NULL,
    agent_id uuid NOT NULL,
    campaign_id uuid,
    recipient_index integer,
    to_phone text NOT NULL,
    from_number text NOT NULL,
    body text NOT NULL,
    segments integer NOT NULL,
    encoding text NOT NULL,
    status text NOT NULL,
    twilio_sid text UNIQUE,
    error_code integer,
    error_message text,
    created_at timestamptz NOT NULL,
    queued_at timestamptz,
    sent_at timestamptz,
    delivered_at timestamptz,
    undelivered_at timestamptz,
    failed_at timestamptz,
    updated_at timestamptz NOT NULL,
    attempt_state text NOT NULL DEFAULT 'new',
    attempts integer NOT NULL DEFAULT 0,
    attempted_at timestamptz,
    attempted_by text,  -- the dispatcher that made the attempt in flight
    next_attempt_at timestamptz,
    callbacks integer NOT NULL DEFAULT 0
);
ALTER TABLE herald.messages ADD COLUMN IF NOT EXISTS attempted_by text;
CREATE INDEX IF NOT EXISTS messages_by_thread ON herald.messages (from_number, to_phone, created_at);
CREATE INDEX IF NOT EXISTS messages_by_campaign ON herald.messages (campaign_id, updated_at);
-- Messages the dispatcher has to submit, retry or reconcile.
CREATE INDEX IF NOT EXISTS messages_open ON herald.messages (from_number, next_attempt_at)
    WHERE attempt_state IN ('new', 'retry', 'in_flight', 'uncertain');

-- herald.status_rank(status), the order statuses move forward in, is generated from
-- domain/status.py and installed with this file (projections/projector.py, status_rank_sql).

CREATE TABLE IF NOT EXISTS herald.consents (
    account_id uuid NOT NULL,
    phone text NOT NULL,
    opted_out boolean NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, phone)
);
-- What analysts and the dispatcher read of each consent's history (domain/consent.py).
ALTER TABLE herald.consents ADD COLUMN IF NOT EXISTS has_opt_in boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS opted_in_at timestamptz,
    ADD COLUMN IF NOT EXISTS opt_in_source text,
    ADD COLUMN IF NOT EXISTS opt_in_evidence text,
    ADD COLUMN IF NOT EXISTS opted_back_in boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS opted_out_at timestamptz,
    ADD COLUMN IF NOT EXISTS last_keyword text,
    ADD COLUMN IF NOT EXISTS opt_out_source text,
    ADD COLUMN IF NOT EXISTS opt_out_evidence text,
    ADD COLUMN IF NOT EXISTS opt_outs integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS opt_ins integer NOT NULL DEFAULT 0;
ALTER TABLE herald.accounts ADD COLUMN IF NOT EXISTS require_opt_in boolean NOT NULL DEFAULT false;
-- A campaign's recipients suppressed for lacking the opt-in record its account required.
ALTER TABLE herald.campaigns ADD COLUMN IF NOT EXISTS no_opt_in jsonb NOT NULL DEFAULT '[]';

-- Conversations (domain/conversation.py): one row per (account, sender number, phone),
-- made by the phone's first inbound message. The thread is herald.messages (outbound, from
-- `number` to `phone`) with herald.inbound_messages, in time order: outbound messages are
-- not copied here.
CREATE TABLE IF NOT EXISTS herald.conversations (
    conversation_id uuid PRIMARY KEY,
    account_id uuid NOT NULL,
    agent_id uuid NOT NULL,  -- the agent owning `number` when the phone first wrote
    number text NOT NULL,  -- our sender number
    phone text NOT NULL,  -- theirs
    started_at timestamptz NOT NULL,  -- the first inbound message
    last_activity_at timestamptz NOT NULL,  -- the latest inbound message or answer recorded
    last_inbound_at timestamptz,
    inbound_count integer NOT NULL DEFAULT 0,
    last_kind text,  -- the latest inbound message's kind: opt_out, opt_in, help, reply
    awaiting_reply_since timestamptz  -- the oldest reply not yet answered; NULL: none
);
CREATE INDEX IF NOT EXISTS conversations_by_activity
    ON herald.conversations (account_id, last_activity_at DESC, conversation_id DESC);
CREATE INDEX IF NOT EXISTS conversations_by_phone ON herald.conversations (account_id, phone);
CREATE INDEX IF NOT EXISTS conversations_awaiting_reply ON herald.conversations
    (awaiting_reply_since) WHERE awaiting_reply_since IS NOT NULL;
-- The agent's answers (Conversation.AnswerRequested, AnswerSent, AnswerFailed): the one
-- being written, and how the last one went.
ALTER TABLE herald.conversations ADD COLUMN IF NOT EXISTS answer_requested_at timestamptz,
    ADD COLUMN IF NOT EXISTS last_answer_status text,  -- sent, failed; NULL: none yet
    ADD COLUMN IF NOT EXISTS last_answer_error text,  -- "code: reason" of a failed one
    ADD COLUMN IF NOT EXISTS answers_sent integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS answers_failed integer NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS conversations_answer_requested ON herald.conversations
    (answer_requested_at) WHERE answer_requested_at IS NOT NULL;

-- One row per answer asked of an agent's responder (application/replies.py).
CREATE TABLE IF NOT EXISTS herald.answers (
    request_id uuid PRIMARY KEY,
    conversation_id uuid NOT NULL,
    account_id uuid NOT NULL,
    responder text NOT NULL,  -- webhook or openai
    requested_by text NOT NULL,  -- the dispatcher that asked
    requested_at timestamptz NOT NULL,
    up_to timestamptz NOT NULL,  -- when the newest reply it answers was received
    outcome text NOT NULL,  -- requested (being written), sent or failed
    outcome_at timestamptz,
    message_id uuid,  -- the answer sent (herald.messages)
    turns integer,  -- messages of the thread the responder was sent
    omitted integer,  -- older ones left out
    error_code text,  -- of a failed one: timeout, http_error, unusable_answer…
    error text
);
CREATE INDEX IF NOT EXISTS answers_by_conversation ON herald.answers (conversation_id, requested_at);

CREATE TABLE IF NOT EXISTS herald.inbound_messages (
    conversation_id uuid NOT NULL,
    twilio_sid text NOT NULL,  -- the inbound MessageSid
    account_id uuid NOT NULL,
    agent_id uuid NOT NULL,
    from_phone text NOT NULL,
    to_number text NOT NULL,
    body text NOT NULL,
    kind text NOT NULL,  -- opt_out, opt_in, help, reply (domain/keywords.py)
    keyword text,  -- the normalised keyword (STOP, YES…); NULL for a reply
    received_at timestamptz NOT NULL,
    in_reply_to uuid,  -- the last outbound message (herald.messages) before it, if any
    PRIMARY KEY (conversation_id, twilio_sid)
);
CREATE INDEX IF NOT EXISTS inbound_by_thread
    ON herald.inbound_messages (to_number, from_phone, received_at);
CREATE INDEX IF NOT EXISTS inbound_by_conversation
    ON herald.inbound_messages (conversation_id, received_at);
CREATE INDEX IF NOT EXISTS inbound_by_sid ON herald.inbound_messages (twilio_sid);
-- What HELP and INFO are answered with (Account.HelpTextSet); NULL: the default, naming the
-- account and how to opt out (domain/account.py default_help_text).
ALTER TABLE herald.accounts ADD COLUMN IF NOT EXISTS help_text text;

-- Views for analysts (documented in docs/read-models.md, with example queries). Dropped and
-- made again whenever this file runs, so that a later version may change their columns;
-- the analysts' group reads the new ones through default privileges (projections/analysts.py).
-- Keep them after the tables they read. They are made in whichever schema this file is run
-- for (a rebuild runs it for herald_rebuild), so they move with their tables when a rebuild
-- renames that schema to herald: a view binds to tables, not to their names. A column a view
-- reads cannot change type while the view exists: drop the view before such an ALTER above.

-- Per account, sender number and day (UTC) of the messages' creation: what became of them.
-- Suppressed messages (their phone opted out before they went) were never sent and are
-- left out. delivery_by_day sums these rows (dropped first: it reads this view).
DROP VIEW IF EXISTS herald.delivery_by_day;
DROP VIEW IF EXISTS herald.delivery_by_number;
CREATE VIEW herald.delivery_by_number AS
SELECT account_id,
       from_number,
       (created_at AT TIME ZONE 'UTC')::date AS day,
       count(*) AS messages,
       count(twilio_sid) AS sent,
       count(*) FILTER (WHERE status = 'delivered') AS delivered,
       count(*) FILTER (WHERE status = 'undelivered') AS undelivered,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       round(count(*) FILTER (WHERE status = 'delivered')::numeric / nullif(count(*) FILTER (
           WHERE status IN ('delivered', 'undelivered', 'failed')), 0), 4) AS delivery_rate
FROM herald.messages
WHERE status <> 'suppressed'
GROUP BY account_id, from_number, day;

-- The same per account and day, all its numbers together.
CREATE VIEW herald.delivery_by_day AS
SELECT account_id,
       day,
       sum(messages)::bigint AS messages,
       sum(sent)::bigint AS sent,
       sum(delivered)::bigint AS delivered,
       sum(undelivered)::bigint AS undelivered,
       sum(failed)::bigint AS failed,
       round(sum(delivered) / nullif(sum(delivered + undelivered + failed), 0), 4)
           AS delivery_rate
FROM herald.delivery_by_number
GROUP BY account_id, day;

-- Twilio's error codes per account and campaign (NULL: single sends). The partial index
-- holds only messages with an error, so the view reads those and not every message.
CREATE INDEX IF NOT EXISTS messages_with_errors ON herald.messages (account_id, campaign_id)
    WHERE error_code IS NOT NULL;
DROP VIEW IF EXISTS herald.error_codes;
CREATE VIEW herald.error_codes AS
SELECT account_id,
       campaign_id,
       error_code,
       error_message,
       count(*) AS messages,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       count(*) FILTER (WHERE status = 'undelivered') AS undelivered,
       min(coalesce(failed_at, undelivered_at, updated_at)) AS first_at,
       max(coalesce(failed_at, undelivered_at, updated_at)) AS last_at
FROM herald.messages
WHERE error_code IS NOT NULL
GROUP BY account_id, campaign_id, error_code, error_message;

-- Campaign outcomes per recipient sent: a recipient is sent when Twilio accepted one of the
-- campaign's messages to them (a retried recipient counts once); "after the campaign's
-- message" is after the first such message was submitted.

-- Replies: an inbound message answers the outbound message it names (`in_reply_to`, the
-- last one sent from that number to that phone), so a reply counts for the campaign whose
-- message it answered, and only if that message was sent.
CREATE INDEX IF NOT EXISTS inbound_by_reply_to ON herald.inbound_messages (in_reply_to)
    WHERE in_reply_to IS NOT NULL;
DROP VIEW IF EXISTS herald.replies_by_campaign;
CREATE VIEW herald.replies_by_campaign AS
WITH sent AS (
    SELECT account_id, campaign_id, count(DISTINCT to_phone) AS recipients_sent
    FROM herald.messages
    WHERE campaign_id IS NOT NULL AND twilio_sid IS NOT NULL
    GROUP BY account_id, campaign_id
), replied AS (
    SELECT m.campaign_id,
           count(DISTINCT m.to_phone) AS replied,
           count(DISTINCT m.to_phone) FILTER (WHERE i.kind = 'reply') AS replied_text,
           count(DISTINCT m.to_phone) FILTER (WHERE i.kind = 'opt_out') AS replied_stop,
           count(*) AS inbound_messages
    FROM herald.inbound_messages i
    JOIN herald.messages m ON m.message_id = i.in_reply_to
    WHERE m.campaign_id IS NOT NULL AND m.twilio_sid IS NOT NULL
    GROUP BY m.campaign_id
)
SELECT s.account_id,
       s.campaign_id,
       s.recipients_sent,
       coalesce(r.replied, 0) AS replied,
       coalesce(r.replied_text, 0) AS replied_text,
       coalesce(r.replied_stop, 0) AS replied_stop,
       coalesce(r.inbound_messages, 0) AS inbound_messages,
       round(coalesce(r.replied, 0)::numeric / s.recipients_sent, 4) AS reply_rate
FROM sent s
LEFT JOIN replied r ON r.campaign_id = s.campaign_id;

-- Opt-outs: recipients whose latest opt-out (herald.consents.opted_out_at: a STOP, Twilio's
-- 21610, the API) was recorded after the campaign's message to them.
DROP VIEW IF EXISTS herald.opt_outs_by_campaign;
CREATE VIEW herald.opt_outs_by_campaign AS
WITH sent AS (
    SELECT account_id, campaign_id, to_phone, min(created_at) AS sent_at
    FROM herald.messages
    WHERE campaign_id IS NOT NULL AND twilio_sid IS NOT NULL
    GROUP BY account_id, campaign_id, to_phone
)
SELECT s.account_id,
       s.campaign_id,
       count(*) AS recipients_sent,
       count(c.phone) AS opted_out,
       round(count(c.phone)::numeric / count(*), 4) AS opt_out_rate
FROM sent s
LEFT JOIN herald.consents c
    ON c.account_id = s.account_id AND c.phone = s.to_phone AND c.opted_out_at > s.sent_at
GROUP BY s.account_id, s.campaign_id;
