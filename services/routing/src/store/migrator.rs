//! Migrations of the `livedesk_routing` database.
use livedesk_platform::db::SqlMigration;
use sea_orm_migration::{MigrationTrait, MigratorTrait};

/// Applies the outbox tables, then the routing schema.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(livedesk_events::events_migration()),
            Box::new(SqlMigration::new(
                "m0001_routing",
                include_str!("../../migrations/0001_init.sql"),
            )),
            Box::new(SqlMigration::new(
                "m0002_engine",
                include_str!("../../migrations/0002_engine.sql"),
            )),
            Box::new(SqlMigration::new(
                "m0003_position_runs",
                include_str!("../../migrations/0003_position_runs.sql"),
            )),
            Box::new(SqlMigration::new(
                "m0004_channel_capacity",
                include_str!("../../migrations/0004_channel_capacity.sql"),
            )),
            Box::new(SqlMigration::new(
                "m0006_form_offers",
                include_str!("../../migrations/0006_form_offers.sql"),
            )),
            Box::new(SqlMigration::new(
                "m0005_membership_versions",
                include_str!("../../migrations/0005_membership_versions.sql"),
            )),
        ]
    }
}
