-- Protobuf enums are stored as text, never as wire numbers (the project's
-- storage rule, issue 9): the value's name without its type prefix, in
-- lowercase (CHANNEL_WEB_CHAT is 'web_chat'), the text the CSV exports
-- show. A CHECK lists the labels each column may hold, and the service
-- refuses a label it does not know when it reads one back
-- (src/domain/labels.rs, whose tests hold this file to the same labels).
--
-- A stored number outside its enum has no label: the CASE gives NULL and
-- the NOT NULL column refuses the migration, rather than inventing a value.

ALTER TABLE conversation_facts
    ALTER COLUMN channel DROP DEFAULT,
    ALTER COLUMN channel TYPE text USING CASE channel WHEN 0 THEN 'unspecified' WHEN 1 THEN 'web_chat' WHEN 2 THEN 'messenger' WHEN 3 THEN 'whatsapp' WHEN 4 THEN 'instagram' WHEN 5 THEN 'email' END,
    ALTER COLUMN channel SET DEFAULT 'unspecified',
    ADD CONSTRAINT conversation_facts_channel_label CHECK (channel IN ('unspecified', 'web_chat', 'messenger', 'whatsapp', 'instagram', 'email')),
    ALTER COLUMN status DROP DEFAULT,
    ALTER COLUMN status TYPE text USING CASE status WHEN 0 THEN 'unspecified' WHEN 1 THEN 'queued' WHEN 2 THEN 'active' WHEN 3 THEN 'paused' WHEN 4 THEN 'ended' WHEN 5 THEN 'blocked' END,
    ALTER COLUMN status SET DEFAULT 'unspecified',
    ADD CONSTRAINT conversation_facts_status_label CHECK (status IN ('unspecified', 'queued', 'active', 'paused', 'ended', 'blocked')),
    ALTER COLUMN ended_by DROP DEFAULT,
    ALTER COLUMN ended_by TYPE text USING CASE ended_by WHEN 0 THEN 'unspecified' WHEN 1 THEN 'agent' WHEN 2 THEN 'customer' WHEN 3 THEN 'inactivity' WHEN 4 THEN 'admin' WHEN 5 THEN 'resource_deleted' WHEN 6 THEN 'system' END,
    ALTER COLUMN ended_by SET DEFAULT 'unspecified',
    ADD CONSTRAINT conversation_facts_ended_by_label CHECK (ended_by IN ('unspecified', 'agent', 'customer', 'inactivity', 'admin', 'resource_deleted', 'system'));

ALTER TABLE blocks
    ALTER COLUMN channel DROP DEFAULT,
    ALTER COLUMN channel TYPE text USING CASE channel WHEN 0 THEN 'unspecified' WHEN 1 THEN 'web_chat' WHEN 2 THEN 'messenger' WHEN 3 THEN 'whatsapp' WHEN 4 THEN 'instagram' WHEN 5 THEN 'email' END,
    ALTER COLUMN channel SET DEFAULT 'unspecified',
    ADD CONSTRAINT blocks_channel_label CHECK (channel IN ('unspecified', 'web_chat', 'messenger', 'whatsapp', 'instagram', 'email'));

ALTER TABLE agent_state_changes
    ALTER COLUMN from_state TYPE text USING CASE from_state WHEN 0 THEN 'unspecified' WHEN 1 THEN 'offline' WHEN 2 THEN 'available' WHEN 3 THEN 'away' WHEN 4 THEN 'rona' END,
    ADD CONSTRAINT agent_state_changes_from_state_label CHECK (from_state IN ('unspecified', 'offline', 'available', 'away', 'rona')),
    ALTER COLUMN to_state TYPE text USING CASE to_state WHEN 0 THEN 'unspecified' WHEN 1 THEN 'offline' WHEN 2 THEN 'available' WHEN 3 THEN 'away' WHEN 4 THEN 'rona' END,
    ADD CONSTRAINT agent_state_changes_to_state_label CHECK (to_state IN ('unspecified', 'offline', 'available', 'away', 'rona'));

ALTER TABLE form_submissions
    ALTER COLUMN kind TYPE text USING CASE kind WHEN 0 THEN 'unspecified' WHEN 1 THEN 'offline' WHEN 2 THEN 'contact' END,
    ADD CONSTRAINT form_submissions_kind_label CHECK (kind IN ('unspecified', 'offline', 'contact'));
