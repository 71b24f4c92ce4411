//! Migrations of the `livedesk_blocking` database.
livedesk_events::migrator! {
    /// Applies the outbox tables, then the blocking schema.
    Migrator,
    ("m0001_blocks", include_str!("../../migrations/0001_init.sql")),
    ("m0002_privacy", include_str!("../../migrations/0002_privacy.sql")),
    ("m0003_enums_as_text", include_str!("../../migrations/0003_enums_as_text.sql")),
    ("m0004_change_notifications", include_str!("../../migrations/0004_change_notifications.sql")),
}
