-- Data-subject erasure and retention (PRV-2, PRV-3).
--
-- An erasure is audited without keeping the identities it erases in clear:
-- `identity_digests` holds sha256(org_id ':' kind ':' value) of each, enough
-- to answer "was this identity erased, when, by whom" when asked with it.
CREATE TABLE erasures (
    id               uuid PRIMARY KEY,
    org_id           uuid NOT NULL,
    cause            text NOT NULL CHECK (cause IN ('request', 'retention')),
    requested_by     text NOT NULL,
    requested_at     timestamptz NOT NULL DEFAULT now(),
    identity_digests text[] NOT NULL DEFAULT '{}',
    conversation_ids uuid[] NOT NULL DEFAULT '{}'
);
CREATE INDEX erasures_org_time ON erasures (org_id, requested_at DESC);

-- One row per service that reported `CustomerErased` for an erasure.
CREATE TABLE erasure_completions (
    erasure_id   uuid NOT NULL REFERENCES erasures (id) ON DELETE CASCADE,
    service      text NOT NULL,
    completed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (erasure_id, service)
);

-- The erasure that claimed a conversation (set once, by a conditional
-- update: two retention sweeps never purge the same conversation twice),
-- and when this service redacted it.
ALTER TABLE conversations ADD COLUMN erasure_id uuid;
ALTER TABLE conversations ADD COLUMN erased_at timestamptz;
CREATE INDEX conversations_retention ON conversations (org_id, ended_at)
    WHERE erasure_id IS NULL AND ended_at IS NOT NULL;
