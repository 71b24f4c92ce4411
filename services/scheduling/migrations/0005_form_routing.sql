-- SCH-6: the conversation a submission was filled in for (an SCH-8 offer,
-- or a chat the visitor has): its copy joins that conversation's request.
ALTER TABLE form_submissions ADD COLUMN conversation_id uuid;

-- BLK-3: submissions from a blocked email or IP are dropped, never stored.
-- Only a keyed (client_request_id) drop leaves this row, which holds no
-- submitted value: a retry answers the same and is counted once.
CREATE TABLE dropped_submissions (
    id                uuid PRIMARY KEY,
    org_id            uuid NOT NULL,
    client_request_id text NOT NULL,
    form_id           uuid NOT NULL,
    block_id          uuid NOT NULL,
    dropped_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX dropped_submissions_client_request
    ON dropped_submissions (org_id, client_request_id);
