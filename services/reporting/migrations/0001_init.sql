-- The reporting read model (RPT-1): built only from other services' events,
-- so every table can be emptied and rebuilt by replaying the streams.

-- One row per conversation. A row may exist before the conversation has
-- ended (a WrapUpSubmitted that arrived first): it counts in statistics
-- only once `ended_at` is set (RPT-2).
CREATE TABLE conversation_facts (
    org_id                 uuid NOT NULL,
    conversation_id        uuid NOT NULL,
    queue_id               text NOT NULL DEFAULT '',
    channel                integer NOT NULL DEFAULT 0,
    agent_ids              text[] NOT NULL DEFAULT '{}',
    tags                   text[] NOT NULL DEFAULT '{}',
    reason                 text NOT NULL DEFAULT '',
    status                 integer NOT NULL DEFAULT 0,
    ended_by               integer NOT NULL DEFAULT 0,
    customer_name          text NOT NULL DEFAULT '', -- masked (CNV-9)
    created_at             timestamptz,
    queued_at              timestamptz,
    first_response_at      timestamptz,
    assigned_at            timestamptz,
    ended_at               timestamptz,
    message_count          integer NOT NULL DEFAULT 0,
    abandoned              boolean NOT NULL DEFAULT false,
    proactive              boolean NOT NULL DEFAULT false,
    blocked                boolean NOT NULL DEFAULT false,
    wait_seconds           double precision,
    handle_seconds         double precision,
    first_response_seconds double precision,
    wrap_up_code           text,
    wrap_up_at             timestamptz,
    PRIMARY KEY (org_id, conversation_id)
);
-- Statistics and exports scan an org's ended conversations by time, in key order.
CREATE INDEX conversation_facts_ended ON conversation_facts (org_id, ended_at, conversation_id) WHERE ended_at IS NOT NULL;
CREATE INDEX conversation_facts_tags ON conversation_facts USING gin (tags);
CREATE INDEX conversation_facts_agents ON conversation_facts USING gin (agent_ids);

-- Wrap-up codes per agent and conversation (agent activity export).
CREATE TABLE agent_wrap_ups (
    org_id          uuid NOT NULL,
    conversation_id uuid NOT NULL,
    agent_id        text NOT NULL,
    code            text NOT NULL,
    automatic       boolean NOT NULL DEFAULT false,
    submitted_at    timestamptz NOT NULL,
    PRIMARY KEY (org_id, conversation_id, agent_id)
);
CREATE INDEX agent_wrap_ups_agent ON agent_wrap_ups (org_id, agent_id, submitted_at);

-- Agent state changes; intervals are derived at export time (LEAD over
-- the agent's changes), so events arriving out of order still yield the
-- right intervals.
CREATE TABLE agent_state_changes (
    event_id    uuid PRIMARY KEY,
    org_id      uuid NOT NULL,
    agent_id    text NOT NULL,
    from_state  integer NOT NULL,
    to_state    integer NOT NULL,
    away_reason text NOT NULL DEFAULT '',
    changed_by  text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL
);
CREATE INDEX agent_state_changes_agent ON agent_state_changes (org_id, agent_id, at, event_id);

-- Customer blocks (BLK-7). A MessageDropped may arrive before its
-- CustomerBlocked: the row then exists with only the count (`known` false).
CREATE TABLE blocks (
    org_id            uuid NOT NULL,
    block_id          uuid NOT NULL,
    known             boolean NOT NULL DEFAULT false,
    conversation_id   text NOT NULL DEFAULT '',
    blocked_by        text NOT NULL DEFAULT '',
    blocked_at        timestamptz,
    reason            text NOT NULL DEFAULT '',
    identities        text NOT NULL DEFAULT '', -- masked labels
    customer_name     text NOT NULL DEFAULT '', -- masked
    channel           integer NOT NULL DEFAULT 0,
    expires_at        timestamptz,
    expired           boolean NOT NULL DEFAULT false,
    unblocked_by      text NOT NULL DEFAULT '',
    unblocked_at      timestamptz,
    dropped_counted   bigint NOT NULL DEFAULT 0, -- MessageDropped events seen
    dropped_reported  bigint NOT NULL DEFAULT 0, -- as last reported by blocking
    PRIMARY KEY (org_id, block_id)
);
CREATE INDEX blocks_time ON blocks (org_id, blocked_at, block_id) WHERE known;

-- Offline / contact form submissions, values masked (SCH-6).
CREATE TABLE form_submissions (
    org_id        uuid NOT NULL,
    submission_id uuid NOT NULL,
    form_id       text NOT NULL,
    kind          integer NOT NULL,
    queue_id      text NOT NULL DEFAULT '',
    submitted_at  timestamptz NOT NULL,
    dropped       boolean NOT NULL DEFAULT false,
    field_keys    text[] NOT NULL DEFAULT '{}',
    field_values  text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (org_id, submission_id)
);
CREATE INDEX form_submissions_time ON form_submissions (org_id, submitted_at, submission_id);

-- Which generation of the read model these tables hold (rebuild, RPT-1).
CREATE TABLE read_model (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    generation integer NOT NULL
);
INSERT INTO read_model (generation) VALUES (1);
