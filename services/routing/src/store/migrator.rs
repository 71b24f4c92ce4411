//! Migrations of the `livedesk_routing` database.
livedesk_events::migrator! {
    /// Applies the outbox tables, then the routing schema.
    Migrator,
    ("m0001_routing", include_str!("../../migrations/0001_init.sql")),
    ("m0002_engine", include_str!("../../migrations/0002_engine.sql")),
    ("m0003_position_runs", include_str!("../../migrations/0003_position_runs.sql")),
    ("m0004_channel_capacity", include_str!("../../migrations/0004_channel_capacity.sql")),
    ("m0006_form_offers", include_str!("../../migrations/0006_form_offers.sql")),
    ("m0005_membership_versions", include_str!("../../migrations/0005_membership_versions.sql")),
    ("m0007_enum_text", include_str!("../../migrations/0007_enum_text.sql")),
}
