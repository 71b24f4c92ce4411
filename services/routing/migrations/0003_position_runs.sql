-- RTG-15: when each queue's positions were last pushed. A replica claims
-- a queue's turn with a conditional upsert, so the positions of a queue
-- are computed once per period whatever the number of replicas.
CREATE TABLE queue_position_runs (
    queue_id uuid PRIMARY KEY,
    ran_at   timestamptz NOT NULL
);
-- The last position pushed (not necessarily the current one: far from the
-- head only steps of about 10 % are pushed, see domain::position).
COMMENT ON COLUMN queue_positions.position IS 'last position pushed to the customer';
