//! Migrations of the `livedesk_reporting` database.
use livedesk_platform::db::SqlMigration;
use sea_orm_migration::{MigrationTrait, MigratorTrait};

/// Applies the outbox/consumer tables, then the read model.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(livedesk_events::events_migration()),
            Box::new(SqlMigration::new(
                "m0001_read_model",
                include_str!("../../migrations/0001_init.sql"),
            )),
            Box::new(SqlMigration::new(
                "m0003_qualification",
                include_str!("../../migrations/0003_qualification.sql"),
            )),
        ]
    }
}
