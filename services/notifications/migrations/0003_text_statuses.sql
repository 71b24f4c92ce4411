-- One storage rule for enums (issue 9): text with a CHECK constraint, never
-- protobuf numbers. Email delivery statuses were stored as DeliveryStatus
-- numbers; each becomes its name. A number without a name has no text, so
-- the NOT NULL column refuses it and the migration fails rather than guess.
DROP INDEX email_deliveries_due;
ALTER TABLE email_deliveries
    ALTER COLUMN status TYPE text USING CASE status
        WHEN 1 THEN 'pending'
        WHEN 2 THEN 'sent'
        WHEN 3 THEN 'retrying'
        WHEN 4 THEN 'failed'
        WHEN 5 THEN 'suppressed'
    END,
    ADD CONSTRAINT email_deliveries_status_known
        CHECK (status IN ('pending', 'sent', 'retrying', 'failed', 'suppressed'));
-- The delivery worker's queue (claimed with FOR UPDATE SKIP LOCKED).
CREATE INDEX email_deliveries_due ON email_deliveries (next_attempt_at)
    WHERE status IN ('pending', 'retrying');

-- Members were already text; the constraint names the two roles.
ALTER TABLE conversation_members
    ADD CONSTRAINT conversation_members_role_known CHECK (role IN ('customer', 'agent'));
