-- Stored form submissions (SCH-6). Values are kept as submitted after
-- validation, with card numbers masked (PCI) before insertion.
CREATE TABLE form_submissions (
    id                uuid PRIMARY KEY,
    org_id            uuid NOT NULL,
    form_id           uuid NOT NULL,
    kind              integer NOT NULL,
    queue_id          uuid,
    -- [{"key":"email","value":"..."}, ...] in the form's field order
    field_values      jsonb NOT NULL,
    visitor_id        text NOT NULL DEFAULT '',
    client_request_id text,
    submitted_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX form_submissions_org_time ON form_submissions (org_id, submitted_at DESC, id DESC);
-- Idempotency of retried submissions (TEN-5).
CREATE UNIQUE INDEX form_submissions_client_request
    ON form_submissions (org_id, client_request_id) WHERE client_request_id IS NOT NULL;
