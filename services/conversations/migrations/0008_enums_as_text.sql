-- One storage rule for enums (ARCHITECTURE.md, "Enums are stored as
-- text, one rule for every table"): a protobuf enum is stored as text, its
-- value's name without the type prefix in lowercase
-- (CONVERSATION_STATUS_ACTIVE is 'active', CHANNEL_WEB_CHAT is 'web_chat'),
-- with a CHECK listing the labels a column may hold. The service refuses a
-- label it does not know when it reads one back (src/domain/labels.rs,
-- whose tests hold this file to the same labels).
--
-- A stored number outside its enum has no label: the CASE gives NULL and
-- the NOT NULL column makes this migration fail, rather than guess a value.
--
-- Priority is only ever compared for equality (filters), never ordered,
-- so it follows the same rule.
--
-- Identity digests of erasures (0007) hash the NUMERIC kind
-- (src/store/privacy.rs identity_digest): the code still hashes the
-- number, so digests stored before this migration keep matching.

-- Partial indexes whose predicates compare the numbers go first; they are
-- recreated below with text literals.
DROP INDEX conversations_live_activity;

ALTER TABLE requests
    ALTER COLUMN status DROP DEFAULT,
    ALTER COLUMN status TYPE text USING CASE status WHEN 0 THEN 'unspecified' WHEN 1 THEN 'open' WHEN 2 THEN 'pending' WHEN 3 THEN 'closed' END,
    ALTER COLUMN status SET DEFAULT 'open',
    ADD CONSTRAINT requests_status_label CHECK (status IN ('unspecified', 'open', 'pending', 'closed')),
    ALTER COLUMN priority DROP DEFAULT,
    ALTER COLUMN priority TYPE text USING CASE priority WHEN 0 THEN 'unspecified' WHEN 1 THEN 'low' WHEN 2 THEN 'medium' WHEN 3 THEN 'high' END,
    ALTER COLUMN priority SET DEFAULT 'low',
    ADD CONSTRAINT requests_priority_label CHECK (priority IN ('unspecified', 'low', 'medium', 'high'));

ALTER TABLE conversations
    ALTER COLUMN channel TYPE text USING CASE channel WHEN 0 THEN 'unspecified' WHEN 1 THEN 'web_chat' WHEN 2 THEN 'messenger' WHEN 3 THEN 'whatsapp' WHEN 4 THEN 'instagram' WHEN 5 THEN 'email' END,
    ADD CONSTRAINT conversations_channel_label CHECK (channel IN ('unspecified', 'web_chat', 'messenger', 'whatsapp', 'instagram', 'email')),
    ALTER COLUMN status TYPE text USING CASE status WHEN 0 THEN 'unspecified' WHEN 1 THEN 'queued' WHEN 2 THEN 'active' WHEN 3 THEN 'paused' WHEN 4 THEN 'ended' WHEN 5 THEN 'blocked' END,
    ADD CONSTRAINT conversations_status_label CHECK (status IN ('unspecified', 'queued', 'active', 'paused', 'ended', 'blocked')),
    ALTER COLUMN priority DROP DEFAULT,
    ALTER COLUMN priority TYPE text USING CASE priority WHEN 0 THEN 'unspecified' WHEN 1 THEN 'low' WHEN 2 THEN 'medium' WHEN 3 THEN 'high' END,
    ALTER COLUMN priority SET DEFAULT 'low',
    ADD CONSTRAINT conversations_priority_label CHECK (priority IN ('unspecified', 'low', 'medium', 'high')),
    ALTER COLUMN ended_by DROP DEFAULT,
    ALTER COLUMN ended_by TYPE text USING CASE ended_by WHEN 0 THEN 'unspecified' WHEN 1 THEN 'agent' WHEN 2 THEN 'customer' WHEN 3 THEN 'inactivity' WHEN 4 THEN 'admin' WHEN 5 THEN 'resource_deleted' WHEN 6 THEN 'system' END,
    ALTER COLUMN ended_by SET DEFAULT 'unspecified',
    ADD CONSTRAINT conversations_ended_by_label CHECK (ended_by IN ('unspecified', 'agent', 'customer', 'inactivity', 'admin', 'resource_deleted', 'system')),
    ALTER COLUMN request_status_at_end DROP DEFAULT,
    ALTER COLUMN request_status_at_end TYPE text USING CASE request_status_at_end WHEN 0 THEN 'unspecified' WHEN 1 THEN 'open' WHEN 2 THEN 'pending' WHEN 3 THEN 'closed' END,
    ALTER COLUMN request_status_at_end SET DEFAULT 'unspecified',
    ADD CONSTRAINT conversations_request_status_at_end_label CHECK (request_status_at_end IN ('unspecified', 'open', 'pending', 'closed'));

-- The primary key (conversation_id, kind, value), the partial unique index
-- of live identities and the lookup index are rebuilt on the text columns by
-- the type change (their predicate, `live`, names no enum).
ALTER TABLE conversation_identities
    ALTER COLUMN channel TYPE text USING CASE channel WHEN 0 THEN 'unspecified' WHEN 1 THEN 'web_chat' WHEN 2 THEN 'messenger' WHEN 3 THEN 'whatsapp' WHEN 4 THEN 'instagram' WHEN 5 THEN 'email' END,
    ADD CONSTRAINT conversation_identities_channel_label CHECK (channel IN ('unspecified', 'web_chat', 'messenger', 'whatsapp', 'instagram', 'email')),
    ALTER COLUMN kind TYPE text USING CASE kind WHEN 0 THEN 'unspecified' WHEN 1 THEN 'web_visitor' WHEN 2 THEN 'email' WHEN 3 THEN 'phone' WHEN 4 THEN 'messenger' WHEN 5 THEN 'whatsapp' WHEN 6 THEN 'instagram' END,
    ADD CONSTRAINT conversation_identities_kind_label CHECK (kind IN ('unspecified', 'web_visitor', 'email', 'phone', 'messenger', 'whatsapp', 'instagram'));

ALTER TABLE messages
    ALTER COLUMN author_kind TYPE text USING CASE author_kind WHEN 0 THEN 'unspecified' WHEN 1 THEN 'customer' WHEN 2 THEN 'agent' WHEN 3 THEN 'system' WHEN 4 THEN 'bot' END,
    ADD CONSTRAINT messages_author_kind_label CHECK (author_kind IN ('unspecified', 'customer', 'agent', 'system', 'bot'));

ALTER TABLE blocked_identities
    ALTER COLUMN kind TYPE text USING CASE kind WHEN 0 THEN 'unspecified' WHEN 1 THEN 'web_visitor' WHEN 2 THEN 'email' WHEN 3 THEN 'phone' WHEN 4 THEN 'messenger' WHEN 5 THEN 'whatsapp' WHEN 6 THEN 'instagram' END,
    ADD CONSTRAINT blocked_identities_kind_label CHECK (kind IN ('unspecified', 'web_visitor', 'email', 'phone', 'messenger', 'whatsapp', 'instagram'));

-- The natural-close sweep looks only at live conversations, oldest activity first.
CREATE INDEX conversations_live_activity ON conversations (last_activity_at) WHERE status IN ('queued', 'active', 'paused');
