-- Who serves which queue (TEN-3), a read model of routing's memberships fed
-- by `AgentQueuesChanged`: per agent, the version of the snapshot applied
-- (a late, older snapshot changes nothing; a deleted agent keeps its row
-- with `deleted`, so a stale snapshot cannot bring its queues back), and
-- the agent's queues of that snapshot.
CREATE TABLE agent_memberships (
    org_id   uuid NOT NULL,
    agent_id text NOT NULL,
    version  bigint NOT NULL,
    deleted  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (org_id, agent_id)
);

CREATE TABLE queue_members (
    org_id   uuid NOT NULL,
    agent_id text NOT NULL,
    queue_id uuid NOT NULL,
    PRIMARY KEY (org_id, agent_id, queue_id)
);
