-- Per-principal feeds (NTF-1). `feeds.last_seq` numbers a recipient's
-- notifications; it is incremented with INSERT ... ON CONFLICT DO UPDATE
-- RETURNING inside the writer's transaction, so the row lock serializes
-- writers of one recipient across replicas and sequences commit in order.
-- The row outlives retention, so numbering never restarts.
CREATE TABLE feeds (
    org_id    uuid   NOT NULL,
    recipient text   NOT NULL,
    last_seq  bigint NOT NULL,
    PRIMARY KEY (org_id, recipient)
);

CREATE TABLE notifications (
    org_id          uuid        NOT NULL,
    recipient       text        NOT NULL,
    seq             bigint      NOT NULL,
    conversation_id text        NOT NULL DEFAULT '',
    kind            text        NOT NULL,
    body            bytea       NOT NULL, -- encoded livedesk.notifications.v1.Notification
    created_at      timestamptz NOT NULL DEFAULT now(),
    event_id        uuid        NOT NULL, -- the event it came from
    PRIMARY KEY (org_id, recipient, seq)
);
CREATE INDEX notifications_created ON notifications (created_at);
-- One event tells one recipient one thing of each kind, even when it is
-- handled twice (EVT-3).
CREATE UNIQUE INDEX notifications_once ON notifications (org_id, recipient, event_id, kind);

-- What this service learns of conversations from events (it never reads
-- another service's database): queue, customer principal, end, block.
CREATE TABLE tracked_conversations (
    org_id          uuid        NOT NULL,
    conversation_id text        NOT NULL,
    queue_id        text        NOT NULL DEFAULT '',
    customer        text        NOT NULL DEFAULT '',
    ended_at        timestamptz,
    blocked         boolean     NOT NULL DEFAULT false,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, conversation_id)
);
CREATE INDEX tracked_conversations_live_queue ON tracked_conversations (org_id, queue_id) WHERE ended_at IS NULL;
CREATE INDEX tracked_conversations_ended ON tracked_conversations (ended_at) WHERE ended_at IS NOT NULL;

-- Principals of a conversation: its customer and every agent assigned.
CREATE TABLE conversation_members (
    org_id          uuid NOT NULL,
    conversation_id text NOT NULL,
    principal_id    text NOT NULL,
    role            text NOT NULL, -- 'customer' | 'agent'
    PRIMARY KEY (org_id, conversation_id, principal_id)
);

-- Customers with a live block (NTF-3), by the block that applies.
CREATE TABLE blocked_customers (
    org_id       uuid NOT NULL,
    block_id     text NOT NULL,
    principal_id text NOT NULL,
    PRIMARY KEY (org_id, block_id, principal_id)
);
CREATE INDEX blocked_customers_principal ON blocked_customers (org_id, principal_id);

-- Email deliveries (NTF-2), one per source event.
CREATE TABLE email_deliveries (
    id              uuid        PRIMARY KEY,
    org_id          uuid        NOT NULL,
    source_event_id uuid        NOT NULL,
    kind            text        NOT NULL,
    request_id      text        NOT NULL DEFAULT '',
    conversation_id text        NOT NULL DEFAULT '',
    recipients      text[]      NOT NULL,
    subject         text        NOT NULL,
    text_body       text        NOT NULL DEFAULT '',
    html_body       text        NOT NULL DEFAULT '',
    status          integer     NOT NULL,
    attempts        integer     NOT NULL DEFAULT 0,
    last_error      text        NOT NULL DEFAULT '',
    next_attempt_at timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX email_deliveries_source ON email_deliveries (org_id, source_event_id);
CREATE INDEX email_deliveries_request ON email_deliveries (org_id, request_id, created_at);
-- The delivery worker's queue (claimed with FOR UPDATE SKIP LOCKED).
CREATE INDEX email_deliveries_due ON email_deliveries (next_attempt_at) WHERE status IN (1, 3);
