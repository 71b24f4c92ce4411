//! Migrations of the `livedesk_reporting` database.
livedesk_events::migrator! {
    /// Applies the outbox/consumer tables, then the read model.
    Migrator,
    ("m0001_read_model", include_str!("../../migrations/0001_init.sql")),
    ("m0003_qualification", include_str!("../../migrations/0003_qualification.sql")),
    ("m0004_enums_as_text", include_str!("../../migrations/0004_enums_as_text.sql")),
}
