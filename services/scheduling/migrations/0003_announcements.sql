-- Queue open/close and closing-soon announcements (SCH-4). Every replica
-- sweeps; the database decides which one announces: the conditional upsert
-- on queue_open_state changes a row once per transition, and the primary
-- key of closing_soon_announcements admits one row per closing instant.
CREATE TABLE queue_open_state (
    org_id      uuid NOT NULL,
    queue_id    uuid NOT NULL,
    open        boolean NOT NULL,
    schedule_id uuid NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, queue_id)
);

CREATE TABLE closing_soon_announcements (
    org_id       uuid NOT NULL,
    queue_id     uuid NOT NULL,
    closes_at    timestamptz NOT NULL,
    announced_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, queue_id, closes_at)
);
