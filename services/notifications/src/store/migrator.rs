//! Migrations of the `livedesk_notifications` database.
use livedesk_platform::db::SqlMigration;
use sea_orm_migration::{MigrationTrait, MigratorTrait};

/// Applies the outbox tables, then the notifications schema.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(livedesk_events::events_migration()),
            Box::new(SqlMigration::new(
                "m0001_notifications",
                include_str!("../../migrations/0001_init.sql"),
            )),
            Box::new(SqlMigration::new(
                "m0002_delivery_claims",
                include_str!("../../migrations/0002_delivery_claims.sql"),
            )),
        ]
    }
}
