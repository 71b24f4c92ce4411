//! The tables every event-producing or event-consuming service has.
use livedesk_platform::db::SqlMigration;

/// Outbox (EVT-2) and processed-events (EVT-3) tables; list it first in a
/// service's migrator.
pub fn events_migration() -> SqlMigration {
    SqlMigration::new(
        "m0000_livedesk_events",
        r#"
CREATE TABLE IF NOT EXISTS event_outbox (
    event_id    uuid PRIMARY KEY,
    subject     text NOT NULL,
    envelope    bytea NOT NULL,
    traceparent text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    attempts    integer NOT NULL DEFAULT 0,
    last_error  text
);
CREATE INDEX IF NOT EXISTS event_outbox_created_at ON event_outbox (created_at);

CREATE TABLE IF NOT EXISTS processed_events (
    consumer     text NOT NULL,
    event_id     uuid NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
CREATE INDEX IF NOT EXISTS processed_events_processed_at ON processed_events (processed_at);
"#,
    )
}
