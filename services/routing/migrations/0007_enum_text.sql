-- The storage rule for enums (ARCHITECTURE.md, "Storage"): TEXT naming
-- the value, a CHECK listing the allowed ones, and an unknown stored value
-- is an error when read, never a default. Routing stored three enums as
-- protobuf numbers; they become text here. A number outside the known
-- ones has no name: the CASE yields NULL and NOT NULL stops the migration
-- rather than guess.

ALTER TABLE queues ALTER COLUMN strategy DROP DEFAULT;
ALTER TABLE queues ALTER COLUMN strategy TYPE text USING CASE strategy
    WHEN 1 THEN 'longest_idle'
    WHEN 2 THEN 'least_busy'
    WHEN 3 THEN 'round_robin'
END;
ALTER TABLE queues ALTER COLUMN strategy SET DEFAULT 'longest_idle';
ALTER TABLE queues ADD CONSTRAINT queues_strategy_known
    CHECK (strategy IN ('longest_idle', 'least_busy', 'round_robin'));

ALTER TABLE queues ALTER COLUMN transfer_failure_policy DROP DEFAULT;
ALTER TABLE queues ALTER COLUMN transfer_failure_policy TYPE text USING CASE transfer_failure_policy
    WHEN 1 THEN 'requeue'
    WHEN 2 THEN 'abandon'
END;
ALTER TABLE queues ALTER COLUMN transfer_failure_policy SET DEFAULT 'requeue';
ALTER TABLE queues ADD CONSTRAINT queues_transfer_failure_policy_known
    CHECK (transfer_failure_policy IN ('requeue', 'abandon'));

ALTER TABLE offers ALTER COLUMN kind DROP DEFAULT;
ALTER TABLE offers ALTER COLUMN kind TYPE text USING CASE kind
    WHEN 1 THEN 'queue'
    WHEN 2 THEN 'transfer'
    WHEN 3 THEN 'conference'
END;
ALTER TABLE offers ALTER COLUMN kind SET DEFAULT 'queue';
ALTER TABLE offers ADD CONSTRAINT offers_kind_known
    CHECK (kind IN ('queue', 'transfer', 'conference'));

-- An agent's state, and the next state to apply once their work is done
-- (NULL: none; protobuf's 0).
ALTER TABLE agents ALTER COLUMN state DROP DEFAULT;
ALTER TABLE agents ALTER COLUMN state TYPE text USING CASE state
    WHEN 1 THEN 'offline'
    WHEN 2 THEN 'available'
    WHEN 3 THEN 'away'
    WHEN 4 THEN 'rona'
END;
ALTER TABLE agents ALTER COLUMN state SET DEFAULT 'offline';
ALTER TABLE agents ADD CONSTRAINT agents_state_known
    CHECK (state IN ('offline', 'available', 'away', 'rona'));

ALTER TABLE agents ALTER COLUMN next_state DROP DEFAULT;
ALTER TABLE agents ALTER COLUMN next_state DROP NOT NULL;
-- 0 is "no next state"; any other unknown number becomes a name the CHECK
-- refuses, stopping the migration.
ALTER TABLE agents ALTER COLUMN next_state TYPE text USING CASE next_state
    WHEN 0 THEN NULL
    WHEN 1 THEN 'offline'
    WHEN 2 THEN 'available'
    WHEN 3 THEN 'away'
    WHEN 4 THEN 'rona'
    ELSE 'unknown ' || next_state
END;
ALTER TABLE agents ADD CONSTRAINT agents_next_state_known
    CHECK (next_state IN ('offline', 'available', 'away', 'rona'));
