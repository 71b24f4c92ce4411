-- The storage rule (ARCHITECTURE.md, "Enums are stored as text"): the
-- lifecycle columns were already text but accepted any text. Each now has
-- a CHECK listing the values the engine writes, so a typo or a value from
-- a newer version is refused at the write, and the engine's matches on
-- these columns can only ever see a value they name.
ALTER TABLE queue_entries ADD CONSTRAINT queue_entries_status_known
    CHECK (status IN ('queued', 'assigned', 'paused', 'ended', 'abandoned'));
ALTER TABLE offers ADD CONSTRAINT offers_status_known
    CHECK (status IN ('pending', 'accepted', 'declined', 'expired', 'withdrawn'));
ALTER TABLE legs ADD CONSTRAINT legs_status_known
    CHECK (status IN ('active', 'wrap_up', 'done'));
ALTER TABLE legs ADD CONSTRAINT legs_role_known
    CHECK (role IN ('owner', 'participant'));
-- The channel stays the protobuf number (ARCHITECTURE.md, routing): it is
-- the index of the per-channel capacity arrays. It is checked like the rest.
ALTER TABLE queue_entries ADD CONSTRAINT queue_entries_channel_known
    CHECK (channel BETWEEN 0 AND 5);
