-- Business hours, their assignment to queues, per-org settings (SPEC §5).
CREATE TABLE schedules (
    id                   uuid PRIMARY KEY,
    org_id               uuid NOT NULL,
    name                 text NOT NULL,
    time_zone            text NOT NULL,
    -- [{"weekday":1,"start":540,"end":720}, ...]
    intervals            jsonb NOT NULL DEFAULT '[]',
    -- [{"date":"2026-12-25","closed":true,"hours":[{"start":..,"end":..}],"name":".."}]
    exceptions           jsonb NOT NULL DEFAULT '[]',
    always_open          boolean NOT NULL DEFAULT false,
    closing_soon_minutes integer NOT NULL DEFAULT 0,
    is_default           boolean NOT NULL DEFAULT false,
    client_request_id    text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX schedules_org ON schedules (org_id, created_at, id);
-- Idempotency of retried CreateSchedule calls (TEN-5).
CREATE UNIQUE INDEX schedules_client_request ON schedules (org_id, client_request_id) WHERE client_request_id IS NOT NULL;

-- Which schedule governs a queue; a queue without a row follows the org's
-- default schedule (SCH-7). Queues themselves belong to routing.
CREATE TABLE queue_schedules (
    org_id      uuid NOT NULL,
    queue_id    uuid NOT NULL,
    -- The FK makes deleting an assigned schedule impossible even when an
    -- assignment races the delete. The default schedule is never stored
    -- here: assigning it removes the row.
    schedule_id uuid NOT NULL REFERENCES schedules (id) ON DELETE RESTRICT,
    assigned_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, queue_id)
);
CREATE INDEX queue_schedules_schedule ON queue_schedules (org_id, schedule_id);

CREATE TABLE settings (
    org_id               uuid PRIMARY KEY,
    out_of_hours_message text NOT NULL DEFAULT '',
    closing_soon_message text NOT NULL DEFAULT '',
    notify_email         text NOT NULL DEFAULT '',
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- Offline and contact forms (SCH-6). queue_id NULL = org-wide. An org
-- without a row has the default offline form (enabled) and the default
-- contact form (disabled), with deterministic ids (TEN-1).
CREATE TABLE forms (
    id           uuid PRIMARY KEY,
    org_id       uuid NOT NULL,
    queue_id     uuid,
    kind         integer NOT NULL,
    enabled      boolean NOT NULL,
    fields       jsonb NOT NULL DEFAULT '[]',
    notify_email text NOT NULL DEFAULT '',
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX forms_one_per_scope
    ON forms (org_id, kind, COALESCE(queue_id, '00000000-0000-0000-0000-000000000000'::uuid));
