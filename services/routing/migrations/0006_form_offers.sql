-- SCH-8: when the offline form was offered to a waiting customer. Set once
-- per wait by a conditional update (any replica), cleared when the
-- conversation waits again (resume, requeue).
ALTER TABLE queue_entries ADD COLUMN form_offered_at timestamptz;
CREATE INDEX queue_entries_form_offer ON queue_entries (waiting_since)
    WHERE status = 'queued' AND form_offered_at IS NULL;
