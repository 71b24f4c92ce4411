-- Routing and queues (SPEC §2). Correctness lives in this schema: the
-- partial unique indexes guarantee at most one pending offer and at most
-- one active owner per conversation, whatever the number of replicas.

-- Per-org settings; the row exists from the org's first use (TEN-1).
CREATE TABLE org_settings (
    org_id               uuid PRIMARY KEY,
    auto_wrap_up_seconds integer NOT NULL DEFAULT 300
);

CREATE TABLE wrap_up_codes (
    org_id   uuid NOT NULL,
    code     text NOT NULL,
    label    text NOT NULL,
    position integer NOT NULL,
    PRIMARY KEY (org_id, code)
);

CREATE TABLE queues (
    id                       uuid PRIMARY KEY,
    org_id                   uuid NOT NULL,
    name                     text NOT NULL,
    strategy                 integer NOT NULL DEFAULT 1,
    offer_timeout_seconds    integer NOT NULL DEFAULT 20,
    required_skills          text[] NOT NULL DEFAULT '{}',
    schedule_id              uuid,
    max_wait_seconds         integer NOT NULL DEFAULT 86400,
    transfer_failure_policy  integer NOT NULL DEFAULT 1,
    offer_form_after_seconds integer NOT NULL DEFAULT 0,
    is_default               boolean NOT NULL DEFAULT false,
    client_request_id        text,
    created_at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX queues_org ON queues (org_id, created_at, id);
-- Idempotency of retried CreateQueue calls (TEN-5).
CREATE UNIQUE INDEX queues_client_request ON queues (org_id, client_request_id) WHERE client_request_id IS NOT NULL;

CREATE TABLE agents (
    org_id           uuid NOT NULL,
    id               text NOT NULL,
    display_name     text NOT NULL,
    initials         text NOT NULL,
    skills           text[] NOT NULL DEFAULT '{}',
    chat_capacity    integer NOT NULL DEFAULT 4,
    state            integer NOT NULL DEFAULT 1,
    away_reason      text NOT NULL DEFAULT '',
    next_state       integer NOT NULL DEFAULT 0,
    next_away_reason text NOT NULL DEFAULT '',
    state_since      timestamptz NOT NULL DEFAULT now(),
    idle_since       timestamptz NOT NULL DEFAULT now(),
    last_offered_at  timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id)
);
CREATE INDEX agents_list ON agents (org_id, created_at, id);

CREATE TABLE queue_members (
    org_id   uuid NOT NULL,
    queue_id uuid NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
    agent_id text NOT NULL,
    PRIMARY KEY (queue_id, agent_id),
    FOREIGN KEY (org_id, agent_id) REFERENCES agents (org_id, id) ON DELETE CASCADE
);
CREATE INDEX queue_members_agent ON queue_members (org_id, agent_id);

-- A conversation known to routing: waiting ('queued'), 'assigned', or
-- finished ('ended', 'abandoned'). An 'ended' row may be written before the
-- conversation was ever queued (events reordered), so a late
-- ConversationQueued does not resurrect it.
CREATE TABLE queue_entries (
    conversation_id    uuid PRIMARY KEY,
    org_id             uuid NOT NULL,
    queue_id           uuid NOT NULL,
    priority           integer NOT NULL DEFAULT 0,
    enqueued_at        timestamptz NOT NULL,
    created_at         timestamptz NOT NULL,
    customer_name      text NOT NULL DEFAULT '',
    channel            integer NOT NULL DEFAULT 0,
    first_messages     text[] NOT NULL DEFAULT '{}',
    proactive          boolean NOT NULL DEFAULT false,
    preferred_agent_id text,
    status             text NOT NULL DEFAULT 'queued',
    assigned_at        timestamptz,
    finished_at        timestamptz
);
CREATE INDEX queue_entries_waiting ON queue_entries (queue_id, priority DESC, enqueued_at, conversation_id) WHERE status = 'queued';
CREATE INDEX queue_entries_org_waiting ON queue_entries (org_id, queue_id) WHERE status = 'queued';

CREATE TABLE offers (
    id              uuid PRIMARY KEY,
    org_id          uuid NOT NULL,
    conversation_id uuid NOT NULL,
    agent_id        text NOT NULL,
    queue_id        uuid NOT NULL,
    kind            integer NOT NULL DEFAULT 1,
    status          text NOT NULL DEFAULT 'pending',
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    answered_at     timestamptz,
    reason          text NOT NULL DEFAULT ''
);
-- RTG-6: a conversation is offered to at most one agent at a time.
CREATE UNIQUE INDEX offers_one_pending ON offers (conversation_id) WHERE status = 'pending';
CREATE INDEX offers_agent_pending ON offers (org_id, agent_id) WHERE status = 'pending';
CREATE INDEX offers_expiring ON offers (expires_at) WHERE status = 'pending';
CREATE INDEX offers_by_conversation ON offers (conversation_id, agent_id);

-- An agent's part in a conversation: 'active', then 'wrap_up' after the
-- end, then 'done' once a wrap-up code is recorded (RTG-9).
CREATE TABLE legs (
    id                uuid PRIMARY KEY,
    org_id            uuid NOT NULL,
    conversation_id   uuid NOT NULL,
    agent_id          text NOT NULL,
    queue_id          uuid NOT NULL,
    role              text NOT NULL DEFAULT 'owner',
    status            text NOT NULL DEFAULT 'active',
    assigned_at       timestamptz NOT NULL DEFAULT now(),
    ended_at          timestamptz,
    wrap_up_deadline  timestamptz,
    wrap_up_code      text,
    wrap_up_automatic boolean NOT NULL DEFAULT false,
    wrapped_up_at     timestamptz
);
-- RTG-6: at most one owner per conversation.
CREATE UNIQUE INDEX legs_one_owner ON legs (conversation_id) WHERE role = 'owner' AND status = 'active';
CREATE INDEX legs_agent_load ON legs (org_id, agent_id) WHERE status <> 'done';
CREATE INDEX legs_wrap_up_due ON legs (wrap_up_deadline) WHERE status = 'wrap_up';
CREATE INDEX legs_by_conversation ON legs (conversation_id);

-- RTG-2: an agent's load counts pending offers, active legs and legs in
-- wrap-up. STABLE: evaluated with the calling statement's snapshot, so the
-- router calls it in a fresh statement after locking the agent row.
CREATE FUNCTION agent_load(p_org uuid, p_agent text) RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT (SELECT count(*) FROM offers o WHERE o.org_id = p_org AND o.agent_id = p_agent AND o.status = 'pending')
         + (SELECT count(*) FROM legs l WHERE l.org_id = p_org AND l.agent_id = p_agent AND l.status <> 'done')
$$;
