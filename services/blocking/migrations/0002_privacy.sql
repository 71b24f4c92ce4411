-- Erased customers stay blocked (PRV-2): a block on an erased customer
-- keeps working, but its identity values are replaced by
-- 'hmac:' || hex(HMAC-SHA256(key, kind ':' value)) with this per-org key,
-- which CheckIdentities computes for the identities it is asked about.
-- Without the key the stored values cannot be tested against a guess.
CREATE TABLE erasure_keys (
    org_id     uuid PRIMARY KEY,
    key        bytea NOT NULL CHECK (length(key) = 32),
    created_at timestamptz NOT NULL DEFAULT now()
);
