-- Versions of agents' queue memberships (TEN-3): every change of an org's
-- memberships runs under one advisory lock per org and takes the next
-- value, so versions follow commit order. Consumers keep, per agent, the
-- snapshot with the highest version (AgentQueuesChanged). A sequence, not a
-- column, so a deleted and re-created agent never goes back to a lower one.
CREATE SEQUENCE agent_membership_versions;
