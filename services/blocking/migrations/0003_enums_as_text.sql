-- One storage rule for enums (issue 9): a protobuf enum is stored as text,
-- its value's name without the type prefix in lowercase (CHANNEL_WEB_CHAT
-- is 'web_chat', IDENTITY_KIND_EMAIL is 'email'), with a CHECK listing the
-- labels a column may hold. The service refuses a label it does not know
-- when it reads one back (src/domain/labels.rs, whose tests hold this file
-- to the same labels).
--
-- A stored number outside its enum has no label: the CASE gives NULL and
-- the NOT NULL column makes this migration fail, rather than guess a value.
--
-- Erased identities keep their values ('hmac:' || HMAC of 'kind:value'
-- with the NUMERIC kind, see src/store/privacy.rs): the code still hashes
-- the number, so hashes stored before this migration keep matching.

ALTER TABLE blocks
    ALTER COLUMN channel DROP DEFAULT,
    ALTER COLUMN channel TYPE text USING CASE channel WHEN 0 THEN 'unspecified' WHEN 1 THEN 'web_chat' WHEN 2 THEN 'messenger' WHEN 3 THEN 'whatsapp' WHEN 4 THEN 'instagram' WHEN 5 THEN 'email' END,
    ALTER COLUMN channel SET DEFAULT 'unspecified',
    ADD CONSTRAINT blocks_channel_label CHECK (channel IN ('unspecified', 'web_chat', 'messenger', 'whatsapp', 'instagram', 'email'));

-- The primary key (block_id, kind, value) and block_identities_lookup are
-- rebuilt on the text column by the type change.
ALTER TABLE block_identities
    ALTER COLUMN kind TYPE text USING CASE kind WHEN 0 THEN 'unspecified' WHEN 1 THEN 'web_visitor' WHEN 2 THEN 'email' WHEN 3 THEN 'phone' WHEN 4 THEN 'messenger' WHEN 5 THEN 'whatsapp' WHEN 6 THEN 'instagram' END,
    ADD CONSTRAINT block_identities_kind_label CHECK (kind IN ('unspecified', 'web_visitor', 'email', 'phone', 'messenger', 'whatsapp', 'instagram'));

-- The actions the service audits: a block, an admin's unblock, an expiry.
ALTER TABLE block_audit
    ADD CONSTRAINT block_audit_action_label CHECK (action IN ('block', 'unblock', 'expire'));
