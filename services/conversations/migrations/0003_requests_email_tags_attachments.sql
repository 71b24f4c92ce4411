-- Interruption (RTG-11), pause (CNV-12), natural close (CNV-13), requests
-- and contacts (CNV-1, CNV-7), email history (CNV-14), tags (CNV-11),
-- attachments (CNV-6).
ALTER TABLE conversations ADD COLUMN interrupted boolean NOT NULL DEFAULT false;
-- The agent who paused a social conversation: preferred when it resumes.
ALTER TABLE conversations ADD COLUMN paused_by_agent_id text;
-- The natural-close sweep looks only at live conversations, oldest activity first.
CREATE INDEX conversations_live_activity ON conversations (last_activity_at) WHERE status IN (1, 2, 3);
CREATE INDEX conversations_request ON conversations (request_id, created_at);

CREATE TABLE contacts (
    id         uuid PRIMARY KEY,
    org_id     uuid NOT NULL,
    name       text NOT NULL DEFAULT '',
    email      text NOT NULL DEFAULT '',
    phone      text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contacts_org_time ON contacts (org_id, created_at DESC, id DESC);
CREATE INDEX contacts_email ON contacts (org_id, email) WHERE email <> '';

ALTER TABLE requests ADD COLUMN assignee_id text;
ALTER TABLE requests ADD COLUMN assignee_initials text NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN contact_id uuid REFERENCES contacts (id);
CREATE INDEX requests_org_time ON requests (org_id, created_at DESC, id DESC);
-- Subject tokens name a request by the last 10 hex digits of its id (CNV-14).
CREATE INDEX requests_short_id ON requests (org_id, right(replace(id::text, '-', ''), 10));

CREATE TABLE email_messages (
    id                uuid PRIMARY KEY,
    org_id            uuid NOT NULL,
    request_id        uuid NOT NULL REFERENCES requests (id),
    inbound           boolean NOT NULL,
    from_addr         text NOT NULL,
    to_addrs          text[] NOT NULL DEFAULT '{}',
    subject           text NOT NULL,
    text_body         text NOT NULL,
    message_id        text NOT NULL,
    in_reply_to       text NOT NULL DEFAULT '',
    refs              text[] NOT NULL DEFAULT '{}',
    client_request_id text,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_messages_request ON email_messages (request_id, created_at);
-- Threading by In-Reply-To / References, and a gateway's retry of the same email.
CREATE UNIQUE INDEX email_messages_message_id ON email_messages (org_id, message_id);
CREATE UNIQUE INDEX email_messages_client_request ON email_messages (org_id, client_request_id) WHERE client_request_id IS NOT NULL;

CREATE TABLE tags (
    id       uuid PRIMARY KEY,
    org_id   uuid NOT NULL,
    name     text NOT NULL,
    category text NOT NULL DEFAULT '',
    keywords text[] NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX tags_name ON tags (org_id, lower(name));
-- Learning from tagged history reads the latest ended, tagged conversations.
CREATE INDEX conversations_tagged ON conversations (org_id, ended_at DESC) WHERE cardinality(qual_tags) > 0;

-- Attachment metadata, committed only after the object is fully written.
CREATE TABLE attachments (
    id              uuid PRIMARY KEY,
    org_id          uuid NOT NULL,
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    file_name       text NOT NULL,
    content_type    text NOT NULL,
    size_bytes      bigint NOT NULL,
    sha256          text NOT NULL,
    object_path     text NOT NULL,
    uploaded_by     text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attachments_conversation ON attachments (conversation_id);
ALTER TABLE messages ADD COLUMN attachment_ids uuid[] NOT NULL DEFAULT '{}';
