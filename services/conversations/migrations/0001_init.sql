-- Requests, conversations, messages and the local cache of blocks (SPEC §3).
CREATE TABLE requests (
    id                    uuid PRIMARY KEY,
    org_id                uuid NOT NULL,
    customer_principal_id text NOT NULL,
    status                integer NOT NULL DEFAULT 1,   -- RequestStatus
    priority              integer NOT NULL DEFAULT 1,   -- Priority (LOW)
    contact_reason        text NOT NULL DEFAULT '',
    tags                  text[] NOT NULL DEFAULT '{}',
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX requests_customer ON requests (org_id, customer_principal_id, created_at DESC);

CREATE TABLE conversations (
    id                    uuid PRIMARY KEY,
    org_id                uuid NOT NULL,
    request_id            uuid NOT NULL REFERENCES requests (id),
    channel               integer NOT NULL,
    queue_id              uuid NOT NULL,
    status                integer NOT NULL,             -- ConversationStatus
    priority              integer NOT NULL DEFAULT 1,
    customer_principal_id text NOT NULL,
    customer_name         text NOT NULL DEFAULT '',
    customer_email        text NOT NULL DEFAULT '',
    customer_phone        text NOT NULL DEFAULT '',
    ip_address            text NOT NULL DEFAULT '',
    proactive             boolean NOT NULL DEFAULT false,
    assigned_agent_id     text,
    ended_by              integer NOT NULL DEFAULT 0,   -- EndedBy
    ended_by_principal_id text NOT NULL DEFAULT '',
    request_status_at_end integer NOT NULL DEFAULT 0,
    qual_tags             text[] NOT NULL DEFAULT '{}',
    qual_reason           text NOT NULL DEFAULT '',
    qual_note             text NOT NULL DEFAULT '',
    last_sequence         bigint NOT NULL DEFAULT 0,    -- server-assigned message order
    message_count         integer NOT NULL DEFAULT 0,
    created_at            timestamptz NOT NULL DEFAULT now(),
    queued_at             timestamptz NOT NULL DEFAULT now(),
    assigned_at           timestamptz,
    first_response_at     timestamptz,
    ended_at              timestamptz,
    last_activity_at      timestamptz NOT NULL DEFAULT now(),
    client_request_id     text
);
CREATE INDEX conversations_org_time ON conversations (org_id, created_at DESC, id DESC);
CREATE INDEX conversations_customer ON conversations (org_id, customer_principal_id, created_at DESC);
-- Retried StartConversation calls return the first conversation (TEN-5).
CREATE UNIQUE INDEX conversations_client_request ON conversations (org_id, client_request_id) WHERE client_request_id IS NOT NULL;

-- Every identity of a conversation's customer. `live` mirrors "the
-- conversation is QUEUED/ACTIVE/PAUSED" and is cleared in the transaction
-- that ends it: the partial unique index then makes two live conversations
-- of one identity on one channel impossible, whatever the replicas do (CNV-2).
CREATE TABLE conversation_identities (
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    org_id          uuid NOT NULL,
    channel         integer NOT NULL,
    kind            integer NOT NULL,
    value           text NOT NULL,
    live            boolean NOT NULL DEFAULT true,
    PRIMARY KEY (conversation_id, kind, value)
);
CREATE UNIQUE INDEX conversation_identities_one_live
    ON conversation_identities (org_id, channel, kind, value) WHERE live;
CREATE INDEX conversation_identities_lookup ON conversation_identities (org_id, kind, value);

CREATE TABLE participants (
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    org_id          uuid NOT NULL,
    principal_id    text NOT NULL,
    role            text NOT NULL,          -- customer, agent, bot
    display_name    text NOT NULL DEFAULT '',
    active          boolean NOT NULL DEFAULT true,
    joined_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, principal_id)
);
CREATE INDEX participants_principal ON participants (org_id, principal_id);

-- Messages. Text is PCI-masked before it gets here (CNV-9). Hidden messages
-- (from a blocked identity, BLK-3) have no sequence and are never read back.
CREATE TABLE messages (
    id                uuid PRIMARY KEY,
    org_id            uuid NOT NULL,
    conversation_id   uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    sequence          bigint,
    author_kind       integer NOT NULL,
    author_id         text NOT NULL DEFAULT '',
    text              text NOT NULL,
    hidden            boolean NOT NULL DEFAULT false,
    block_id          uuid,
    client_message_id text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (hidden OR sequence IS NOT NULL)
);
CREATE UNIQUE INDEX messages_sequence ON messages (conversation_id, sequence) WHERE sequence IS NOT NULL;
-- Retried SendMessage calls return the first message (CNV-4, TEN-5).
CREATE UNIQUE INDEX messages_client_id ON messages (conversation_id, client_message_id) WHERE client_message_id IS NOT NULL;

-- Local cache of active customer blocks, fed by blocking's events (BLK-6):
-- a message check needs no call. Rows past expires_at no longer apply (BLK-8).
CREATE TABLE blocked_identities (
    org_id     uuid NOT NULL,
    block_id   uuid NOT NULL,
    kind       integer NOT NULL,
    value      text NOT NULL,
    expires_at timestamptz,
    PRIMARY KEY (block_id, kind, value)
);
CREATE INDEX blocked_identities_lookup ON blocked_identities (org_id, kind, value);

-- Per-org settings (CNV-9, CNV-13); absent row = defaults.
CREATE TABLE settings (
    org_id             uuid PRIMARY KEY,
    mask_pii           boolean NOT NULL DEFAULT true,
    natural_close_days integer NOT NULL DEFAULT 7,
    retention_days     integer NOT NULL DEFAULT 0
);
