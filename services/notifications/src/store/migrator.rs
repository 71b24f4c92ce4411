//! Migrations of the `livedesk_notifications` database.
livedesk_events::migrator! {
    /// Applies the outbox tables, then the notifications schema.
    Migrator,
    ("m0001_notifications", include_str!("../../migrations/0001_init.sql")),
    ("m0002_delivery_claims", include_str!("../../migrations/0002_delivery_claims.sql")),
    ("m0003_text_statuses", include_str!("../../migrations/0003_text_statuses.sql")),
}
