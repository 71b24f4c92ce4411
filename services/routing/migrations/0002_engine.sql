-- The complete engine (RTG-7, RTG-8, RTG-11, RTG-13, RTG-15, CNV-12).

-- The customer principal of a queued conversation, so a visitor may ask
-- for their own position (RTG-15); `requeued_at` puts an entry re-queued
-- by a transfer at the head of its priority, keeping its original age
-- (RTG-7); `interrupted` marks a conversation whose queue or agent was
-- deleted: it can only be ended (RTG-11). Status 'paused' (CNV-12): the
-- agent's leg ended, the customer may come back with the same id.
ALTER TABLE queue_entries
    ADD COLUMN customer_principal_id text NOT NULL DEFAULT '',
    ADD COLUMN requeued_at timestamptz,
    ADD COLUMN interrupted boolean NOT NULL DEFAULT false,
    -- Since when it waits this time: declines and timeouts of earlier
    -- rounds (before a transfer or a pause) no longer exclude an agent.
    ADD COLUMN waiting_since timestamptz NOT NULL DEFAULT now();
DROP INDEX queue_entries_waiting;
-- RTG-4/RTG-7 order: priority, then re-queued first, then age.
CREATE INDEX queue_entries_waiting ON queue_entries (queue_id, priority DESC, (requeued_at IS NULL), enqueued_at, conversation_id) WHERE status = 'queued';
CREATE INDEX queue_entries_expiring ON queue_entries (enqueued_at) WHERE status = 'queued';

-- Who asked for a transfer or conference offer, and their note.
ALTER TABLE offers
    ADD COLUMN from_agent_id text NOT NULL DEFAULT '',
    ADD COLUMN note text NOT NULL DEFAULT '';

-- A leg closed without wrap-up (paused conversation, deleted agent).
ALTER TABLE legs ADD COLUMN closed_without_wrap_up boolean NOT NULL DEFAULT false;
-- RTG-8: one invited participant at a time.
CREATE UNIQUE INDEX legs_one_participant ON legs (conversation_id) WHERE role = 'participant' AND status = 'active';
-- RTG-15: recent assignments per queue (throughput).
CREATE INDEX legs_queue_assigned ON legs (queue_id, assigned_at) WHERE role = 'owner';

-- Transfers as asked (RTG-7); a retried call finds its first result here (TEN-5).
CREATE TABLE transfers (
    id              uuid PRIMARY KEY,
    org_id          uuid NOT NULL,
    conversation_id uuid NOT NULL,
    from_agent_id   text NOT NULL,
    to_queue_id     uuid,
    to_agent_id     text,
    offer_id        uuid,
    note            text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX transfers_by_conversation ON transfers (conversation_id, from_agent_id, created_at);

-- The last position pushed to each waiting customer (RTG-15): only
-- changes are published. A table of its own so that computing positions
-- never locks the queue entries routing claims.
CREATE TABLE queue_positions (
    conversation_id uuid PRIMARY KEY,
    org_id          uuid NOT NULL,
    queue_id        uuid NOT NULL,
    position        integer NOT NULL
);
CREATE INDEX queue_positions_queue ON queue_positions (queue_id);
