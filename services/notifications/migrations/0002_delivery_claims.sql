-- The delivery worker's claim (NTF-2): a worker takes due rows with
-- FOR UPDATE SKIP LOCKED, stamps them with its claim token and pushes
-- next_attempt_at past a lease; it records the outcome only while the
-- token is still its own. A worker that died mid-send leaves the row due
-- again once the lease has passed, so another worker takes it.
ALTER TABLE email_deliveries ADD COLUMN claim_token uuid;
