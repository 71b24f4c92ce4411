//! The tables every event-producing or event-consuming service has.
use livedesk_platform::db::SqlMigration;

/// Outbox (EVT-2) and processed-events (EVT-3) tables; list it first in a
/// service's migrator.
pub fn events_migration() -> SqlMigration {
    SqlMigration::new(
        "m0000_livedesk_events",
        r#"
CREATE TABLE IF NOT EXISTS event_outbox (
    event_id    uuid PRIMARY KEY,
    subject     text NOT NULL,
    envelope    bytea NOT NULL,
    traceparent text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    attempts    integer NOT NULL DEFAULT 0,
    last_error  text
);
CREATE INDEX IF NOT EXISTS event_outbox_created_at ON event_outbox (created_at);

CREATE TABLE IF NOT EXISTS processed_events (
    consumer     text NOT NULL,
    event_id     uuid NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
CREATE INDEX IF NOT EXISTS processed_events_processed_at ON processed_events (processed_at);
"#,
    )
}

/// The outbox relay's claims: a relay marks the rows it is publishing
/// (`claimed_until`) in one short statement instead of holding their row
/// locks in a transaction across the publish round trips. Listed right
/// after [`events_migration`]; a database migrated before it gets it as a
/// pending migration on its next start.
pub fn outbox_claims_migration() -> SqlMigration {
    SqlMigration::new(
        "m0000_livedesk_outbox_claims",
        "ALTER TABLE event_outbox ADD COLUMN IF NOT EXISTS claimed_until timestamptz;",
    )
}

/// Per-aggregate order (EVT-3): the producer's counter of each
/// aggregate's events (`event_aggregate_sequences`, bumped in the
/// transaction that stages an event) and each consumer's position in each
/// aggregate (`event_consumer_positions`, moved in the transaction that
/// applies one). Aggregate ids are identifiers, never personal data.
pub fn aggregate_sequences_migration() -> SqlMigration {
    SqlMigration::new(
        "m0000_livedesk_aggregate_sequences",
        r#"
CREATE TABLE IF NOT EXISTS event_aggregate_sequences (
    aggregate_id  text PRIMARY KEY,
    last_sequence bigint NOT NULL CHECK (last_sequence > 0)
);

CREATE TABLE IF NOT EXISTS event_consumer_positions (
    consumer      text NOT NULL,
    aggregate_id  text NOT NULL,
    last_sequence bigint NOT NULL CHECK (last_sequence > 0),
    PRIMARY KEY (consumer, aggregate_id)
);
"#,
    )
}

/// The event machinery's migrations in their order: list them first in a
/// service's migrator ([`migrator!`](crate::migrator) does).
pub fn events_migrations() -> Vec<Box<dyn sea_orm_migration::MigrationTrait>> {
    vec![
        Box::new(events_migration()),
        Box::new(outbox_claims_migration()),
        Box::new(aggregate_sequences_migration()),
    ]
}

/// Declares a service's migrator: the events tables first, then the
/// service's SQL migrations in order, each a `(name, sql)` pair (the names
/// are recorded in `seaql_migrations` and must never change):
///
/// ```ignore
/// livedesk_events::migrator! {
///     /// Applies the outbox tables, then the blocking schema.
///     Migrator,
///     ("m0001_blocks", include_str!("../../migrations/0001_init.sql")),
/// }
/// ```
#[macro_export]
macro_rules! migrator {
    ($(#[$doc:meta])* $name:ident, $(($migration:literal, $sql:expr)),+ $(,)?) => {
        $(#[$doc])*
        pub struct $name;

        impl $crate::__reexport::sea_orm_migration::MigratorTrait for $name {
            fn migrations() -> ::std::vec::Vec<::std::boxed::Box<dyn $crate::__reexport::sea_orm_migration::MigrationTrait>> {
                let mut all = $crate::events_migrations();
                $(all.push(::std::boxed::Box::new($crate::__reexport::livedesk_platform::db::SqlMigration::new($migration, $sql)));)+
                all
            }
        }
    };
}
