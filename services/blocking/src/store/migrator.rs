//! Migrations of the `livedesk_blocking` database.
use livedesk_platform::db::SqlMigration;
use sea_orm_migration::{MigrationTrait, MigratorTrait};

/// Applies the outbox tables, then the blocking schema.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(livedesk_events::events_migration()),
            Box::new(SqlMigration::new(
                "m0001_blocks",
                include_str!("../../migrations/0001_init.sql"),
            )),
            Box::new(SqlMigration::new(
                "m0002_privacy",
                include_str!("../../migrations/0002_privacy.sql"),
            )),
        ]
    }
}
