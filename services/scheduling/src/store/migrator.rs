//! Migrations of the `livedesk_scheduling` database.
livedesk_events::migrator! {
    /// Applies the outbox tables, then the scheduling schema.
    Migrator,
    ("m0001_schedules", include_str!("../../migrations/0001_init.sql")),
    ("m0002_form_submissions", include_str!("../../migrations/0002_form_submissions.sql")),
    ("m0003_announcements", include_str!("../../migrations/0003_announcements.sql")),
    ("m0005_form_routing", include_str!("../../migrations/0005_form_routing.sql")),
    ("m0006_kinds_as_text", include_str!("../../migrations/0006_kinds_as_text.sql")),
}
