-- Canned responses (CNV-5), queue policies (CNV-16), qualification audit (CNV-10).
CREATE TABLE templates (
    id         uuid PRIMARY KEY,
    org_id     uuid NOT NULL,
    name       text NOT NULL,
    body       text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX templates_name ON templates (org_id, lower(name));

CREATE TABLE queue_policies (
    org_id                 uuid NOT NULL,
    queue_id               uuid NOT NULL,
    require_tags           boolean NOT NULL DEFAULT false,
    require_contact_reason boolean NOT NULL DEFAULT false,
    PRIMARY KEY (org_id, queue_id)
);

CREATE TABLE qualification_audit (
    id              uuid PRIMARY KEY,
    org_id          uuid NOT NULL,
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    changed_by      text NOT NULL,
    changed_at      timestamptz NOT NULL DEFAULT now(),
    before_tags     text[] NOT NULL,
    before_reason   text NOT NULL,
    before_note     text NOT NULL,
    after_tags      text[] NOT NULL,
    after_reason    text NOT NULL,
    after_note      text NOT NULL
);
CREATE INDEX qualification_audit_conversation ON qualification_audit (conversation_id, changed_at);
