//! Migrations of the `livedesk_conversations` database.
use livedesk_platform::db::SqlMigration;
use sea_orm_migration::{MigrationTrait, MigratorTrait};

/// Applies the outbox tables, then the conversations schema.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(livedesk_events::events_migration()),
            Box::new(SqlMigration::new(
                "m0001_conversations",
                include_str!("../../migrations/0001_init.sql"),
            )),
            Box::new(SqlMigration::new(
                "m0002_templates_policies",
                include_str!("../../migrations/0002_templates_policies.sql"),
            )),
            Box::new(SqlMigration::new(
                "m0003_requests_email_tags_attachments",
                include_str!("../../migrations/0003_requests_email_tags_attachments.sql"),
            )),
            Box::new(SqlMigration::new(
                "m0004_blocked_ips",
                include_str!("../../migrations/0004_blocked_ips.sql"),
            )),
            Box::new(SqlMigration::new(
                "m0005_forms",
                include_str!("../../migrations/0005_forms.sql"),
            )),
            Box::new(SqlMigration::new(
                "m0006_queue_members",
                include_str!("../../migrations/0006_queue_members.sql"),
            )),
            Box::new(SqlMigration::new(
                "m0007_privacy",
                include_str!("../../migrations/0007_privacy.sql"),
            )),
        ]
    }
}
