-- IP blocks learned from the blocking service (BLK-9): an IP block applies
-- to every conversation whose customer came from an address in the range,
-- not only to new ones (StartConversation asks the blocking service).
CREATE TABLE blocked_ips (
    org_id     uuid NOT NULL,
    block_id   uuid PRIMARY KEY,
    cidr       cidr NOT NULL,
    expires_at timestamptz
);
CREATE INDEX blocked_ips_org ON blocked_ips (org_id);
