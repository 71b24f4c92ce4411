-- Offline- and contact-form submissions reach agents (SCH-6).
-- A contact form's custom fields on the request it opened or joined, in
-- the form's order: keys[i] = values[i].
ALTER TABLE requests ADD COLUMN custom_field_keys text[] NOT NULL DEFAULT '{}';
ALTER TABLE requests ADD COLUMN custom_field_values text[] NOT NULL DEFAULT '{}';

-- The copy of each submission, read in the request's history. One row per
-- scheduling event (source_event_id unique), so a redelivered
-- FormSubmitted adds nothing.
CREATE TABLE form_copies (
    id              uuid PRIMARY KEY,           -- scheduling's submission id
    org_id          uuid NOT NULL,
    request_id      uuid NOT NULL REFERENCES requests (id),
    source_event_id uuid NOT NULL,
    form_id         uuid NOT NULL,
    contact_form    boolean NOT NULL,
    queue_id        text NOT NULL DEFAULT '',
    -- every field, built-in ones first: field_keys[i] = field_values[i]
    field_keys      text[] NOT NULL,
    field_values    text[] NOT NULL,
    submitted_at    timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX form_copies_source_event ON form_copies (source_event_id);
CREATE INDEX form_copies_request ON form_copies (org_id, request_id, submitted_at);
