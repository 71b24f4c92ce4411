//! Migrations of the `livedesk_scheduling` database.
use livedesk_platform::db::SqlMigration;
use sea_orm_migration::{MigrationTrait, MigratorTrait};

/// Applies the outbox tables, then the scheduling schema.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(livedesk_events::events_migration()),
            Box::new(SqlMigration::new(
                "m0001_schedules",
                include_str!("../../migrations/0001_init.sql"),
            )),
            Box::new(SqlMigration::new(
                "m0002_form_submissions",
                include_str!("../../migrations/0002_form_submissions.sql"),
            )),
            Box::new(SqlMigration::new(
                "m0003_announcements",
                include_str!("../../migrations/0003_announcements.sql"),
            )),
            Box::new(SqlMigration::new(
                "m0005_form_routing",
                include_str!("../../migrations/0005_form_routing.sql"),
            )),
        ]
    }
}
