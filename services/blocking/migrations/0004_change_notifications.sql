-- Every replica keeps the active blocks of the orgs it checks in memory
-- (src/cache): a change to anything a check reads must reach every
-- replica. These triggers send the org's id on the channel
-- 'livedesk_blocking_changes' with pg_notify: transactional (sent at
-- commit, never for a rolled-back change), delivered to every listening
-- session of this database in commit order, and fired by the table itself,
-- so no code path, present or future, can change a block and forget to
-- tell the caches. Several notifications of one org in one transaction
-- are folded into one by PostgreSQL (same channel, same payload).
CREATE FUNCTION blocking_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM pg_notify('livedesk_blocking_changes', OLD.org_id::text);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM pg_notify('livedesk_blocking_changes', NEW.org_id::text);
    END IF;
    RETURN NULL;
END
$$;

-- TRUNCATE has no rows: every org's entry is dropped ('*').
CREATE FUNCTION blocking_notify_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('livedesk_blocking_changes', '*');
    RETURN NULL;
END
$$;

CREATE TRIGGER blocks_changed AFTER INSERT OR DELETE ON blocks
    FOR EACH ROW EXECUTE FUNCTION blocking_notify_change();
-- Only the columns a check reads: counting a dropped message
-- (dropped_messages), announcing an expiry (expiry_published) or erasing
-- a name (customer_name) must not empty the caches.
CREATE TRIGGER blocks_updated AFTER UPDATE ON blocks
    FOR EACH ROW WHEN (
        OLD.id IS DISTINCT FROM NEW.id
        OR OLD.org_id IS DISTINCT FROM NEW.org_id
        OR OLD.ip_cidr IS DISTINCT FROM NEW.ip_cidr
        OR OLD.blocked_at IS DISTINCT FROM NEW.blocked_at
        OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
        OR OLD.unblocked_at IS DISTINCT FROM NEW.unblocked_at)
    EXECUTE FUNCTION blocking_notify_change();
CREATE TRIGGER block_identities_changed AFTER INSERT OR UPDATE OR DELETE ON block_identities
    FOR EACH ROW EXECUTE FUNCTION blocking_notify_change();
CREATE TRIGGER erasure_keys_changed AFTER INSERT OR UPDATE OR DELETE ON erasure_keys
    FOR EACH ROW EXECUTE FUNCTION blocking_notify_change();

CREATE TRIGGER blocks_truncated AFTER TRUNCATE ON blocks
    FOR EACH STATEMENT EXECUTE FUNCTION blocking_notify_all();
CREATE TRIGGER block_identities_truncated AFTER TRUNCATE ON block_identities
    FOR EACH STATEMENT EXECUTE FUNCTION blocking_notify_all();
CREATE TRIGGER erasure_keys_truncated AFTER TRUNCATE ON erasure_keys
    FOR EACH STATEMENT EXECUTE FUNCTION blocking_notify_all();
