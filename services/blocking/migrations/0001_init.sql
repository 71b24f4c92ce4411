-- Blocks of customers (by identity) and of IP ranges (SPEC §4).
CREATE TABLE blocks (
    id                uuid PRIMARY KEY,
    org_id            uuid NOT NULL,
    conversation_id   uuid,
    channel           integer NOT NULL DEFAULT 0,
    customer_name     text NOT NULL DEFAULT '',
    ip_cidr           cidr,
    reason            text NOT NULL DEFAULT '',
    blocked_by        text NOT NULL,
    blocked_at        timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz,
    unblocked_by      text,
    unblocked_at      timestamptz,
    expiry_published  boolean NOT NULL DEFAULT false,
    dropped_messages  bigint NOT NULL DEFAULT 0,
    client_request_id text,
    CHECK (conversation_id IS NOT NULL OR ip_cidr IS NOT NULL)
);
-- A conversation's customer is blocked at most once at a time: two agents
-- clicking "block" together yield one block (the second gets ALREADY_EXISTS).
CREATE UNIQUE INDEX blocks_one_live_per_conversation
    ON blocks (org_id, conversation_id) WHERE unblocked_at IS NULL AND conversation_id IS NOT NULL;
-- Idempotency of retried BlockCustomer calls (TEN-5).
CREATE UNIQUE INDEX blocks_client_request ON blocks (org_id, client_request_id) WHERE client_request_id IS NOT NULL;
CREATE INDEX blocks_org_time ON blocks (org_id, blocked_at DESC, id DESC);
CREATE INDEX blocks_ip ON blocks USING gist (ip_cidr inet_ops) WHERE ip_cidr IS NOT NULL;
CREATE INDEX blocks_expiring ON blocks (expires_at) WHERE expiry_published = false AND expires_at IS NOT NULL;

CREATE TABLE block_identities (
    block_id uuid NOT NULL REFERENCES blocks (id) ON DELETE CASCADE,
    org_id   uuid NOT NULL,
    kind     integer NOT NULL,
    value    text NOT NULL,
    PRIMARY KEY (block_id, kind, value)
);
CREATE INDEX block_identities_lookup ON block_identities (org_id, kind, value);

-- Who blocked or unblocked whom, when and why (BLK-6).
CREATE TABLE block_audit (
    id       uuid PRIMARY KEY,
    block_id uuid NOT NULL REFERENCES blocks (id) ON DELETE CASCADE,
    org_id   uuid NOT NULL,
    action   text NOT NULL,
    actor    text NOT NULL,
    reason   text NOT NULL DEFAULT '',
    at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX block_audit_block ON block_audit (block_id, at);
