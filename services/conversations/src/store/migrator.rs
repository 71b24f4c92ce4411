//! Migrations of the `livedesk_conversations` database.
livedesk_events::migrator! {
    /// Applies the outbox tables, then the conversations schema.
    Migrator,
    ("m0001_conversations", include_str!("../../migrations/0001_init.sql")),
    ("m0002_templates_policies", include_str!("../../migrations/0002_templates_policies.sql")),
    ("m0003_requests_email_tags_attachments", include_str!("../../migrations/0003_requests_email_tags_attachments.sql")),
    ("m0004_blocked_ips", include_str!("../../migrations/0004_blocked_ips.sql")),
    ("m0005_forms", include_str!("../../migrations/0005_forms.sql")),
    ("m0006_queue_members", include_str!("../../migrations/0006_queue_members.sql")),
    ("m0007_privacy", include_str!("../../migrations/0007_privacy.sql")),
    ("m0008_enums_as_text", include_str!("../../migrations/0008_enums_as_text.sql")),
}
