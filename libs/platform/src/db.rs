//! PostgreSQL: connect (creating the service's database when missing, so a
//! fresh machine needs no manual step), migrate, and small query helpers.
use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, Statement,
};
use sea_orm_migration::MigratorTrait;

/// Connects to `url` with the default pool size.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_with(url, DEFAULT_MAX_CONNECTIONS).await
}

/// Default pool size per service instance: with many replicas,
/// PostgreSQL's `max_connections` is the limit (`LIVEDESK_DB_MAX_CONNECTIONS`).
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// Connects to `url`, creating its database first when it does not exist.
pub async fn connect_with(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    ensure_database(url).await?;
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(max_connections.max(2))
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    Database::connect(opts).await
}

/// Splits `postgres://…/dbname?params` into (server URL on `postgres`, dbname).
fn split_database(url: &str) -> Option<(String, String)> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let slash = base.rfind('/')?;
    if base[..slash].ends_with('/') {
        return None; // no database part
    }
    let name = base[slash + 1..].to_owned();
    if name.is_empty() {
        return None;
    }
    let mut admin = format!("{}/postgres", &base[..slash]);
    if let Some(q) = query {
        admin.push('?');
        admin.push_str(q);
    }
    Some((admin, name))
}

/// Creates the database named in `url` if it is missing. Races between
/// replicas are harmless: a concurrent create fails with "already exists".
pub async fn ensure_database(url: &str) -> Result<(), DbErr> {
    let Some((admin_url, name)) = split_database(url) else {
        return Ok(());
    };
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(DbErr::Custom(format!(
            "refusing to create database with name {name:?}"
        )));
    }
    let mut opts = ConnectOptions::new(admin_url);
    opts.max_connections(1)
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5));
    let admin = Database::connect(opts).await?;
    let exists = admin
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT 1 FROM pg_database WHERE datname = $1",
            [name.clone().into()],
        ))
        .await?
        .is_some();
    if !exists
        && let Err(e) = admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
        && sqlstate(&e).as_deref() != Some(DUPLICATE_DATABASE)
        && !is_unique_violation(&e)
    {
        return Err(e);
    }
    admin.close().await
}

/// Drops the database named in `url` (tests clean up after themselves).
pub async fn drop_database(url: &str) -> Result<(), DbErr> {
    let Some((admin_url, name)) = split_database(url) else {
        return Ok(());
    };
    let admin = Database::connect(admin_url).await?;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await?;
    admin.close().await
}

/// PostgreSQL's SQLSTATE for `CREATE DATABASE` of a name that exists.
const DUPLICATE_DATABASE: &str = "42P04";

/// Whether `e` is a unique-constraint violation (a second insert of the same
/// key): classified by sea-orm's [`DbErr::sql_err`] from the SQLSTATE, never
/// by the text of the message, which depends on the server's language.
pub fn is_unique_violation(e: &DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// Whether `e` is a unique-constraint violation of the constraint or index
/// named `constraint` (for a table with several unique keys).
pub fn is_unique_violation_of(e: &DbErr, constraint: &str) -> bool {
    is_unique_violation(e) && constraint_name(e).as_deref() == Some(constraint)
}

/// Whether `e` is a foreign-key violation (the referenced row is gone).
pub fn is_foreign_key_violation(e: &DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_))
    )
}

/// The SQLSTATE of a database error, when the server sent one.
pub fn sqlstate(e: &DbErr) -> Option<String> {
    database_error(e).and_then(|d| d.code().map(|c| c.into_owned()))
}

/// Whether `e` says the database could not be reached or went away (a
/// restart, a failover, a cut link, a full pool), not that the work was
/// wrong: such work should wait for the database and be retried, and must
/// never be given up on as if it were at fault (an event dead-lettered
/// because PostgreSQL was restarting would be an event lost).
pub fn is_unavailable(e: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx};
    match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(s)) | DbErr::Query(RuntimeErr::SqlxError(s)) => {
            match s.as_ref() {
                sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::Protocol(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed => true,
                // Class 08 (connection exception); 57P01..57P03: the
                // server is shutting down, crashed, or not yet accepting.
                sqlx::Error::Database(d) => d.code().is_some_and(|c| {
                    c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03")
                }),
                _ => false,
            }
        }
        _ => false,
    }
}

/// The constraint a database error names, when the server sent one.
pub fn constraint_name(e: &DbErr) -> Option<String> {
    database_error(e).and_then(|d| d.constraint().map(str::to_owned))
}

fn database_error(e: &DbErr) -> Option<&(dyn sea_orm::sqlx::error::DatabaseError + 'static)> {
    use sea_orm::{RuntimeErr, sqlx};
    match e {
        DbErr::Exec(RuntimeErr::SqlxError(s)) | DbErr::Query(RuntimeErr::SqlxError(s)) => {
            match s.as_ref() {
                sqlx::Error::Database(d) => Some(d.as_ref()),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Applies every pending migration of `M`.
pub async fn migrate<M: MigratorTrait>(db: &DatabaseConnection) -> Result<(), DbErr> {
    M::up(db, None).await
}

/// Whether the database answers (for health).
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.execute_unprepared("SELECT 1").await.is_ok()
}

/// Builds a PostgreSQL statement with positional values.
pub fn stmt<I>(sql: &str, values: I) -> Statement
where
    I: IntoIterator<Item = sea_orm::Value>,
{
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// A PostgreSQL `text[]` parameter.
pub fn text_array(items: &[String]) -> sea_orm::Value {
    sea_orm::Value::Array(
        sea_orm::sea_query::ArrayType::String,
        Some(Box::new(
            items
                .iter()
                .map(|s| sea_orm::Value::String(Some(s.clone())))
                .collect(),
        )),
    )
}

/// A PostgreSQL `int[]` parameter.
pub fn int_array(items: &[i32]) -> sea_orm::Value {
    sea_orm::Value::Array(
        sea_orm::sea_query::ArrayType::Int,
        Some(Box::new(
            items
                .iter()
                .map(|n| sea_orm::Value::Int(Some(*n)))
                .collect(),
        )),
    )
}

/// A PostgreSQL `bigint[]` parameter.
pub fn bigint_array(items: &[i64]) -> sea_orm::Value {
    sea_orm::Value::Array(
        sea_orm::sea_query::ArrayType::BigInt,
        Some(Box::new(
            items
                .iter()
                .map(|n| sea_orm::Value::BigInt(Some(*n)))
                .collect(),
        )),
    )
}

/// A PostgreSQL `uuid[]` parameter.
pub fn uuid_array(items: &[uuid::Uuid]) -> sea_orm::Value {
    sea_orm::Value::Array(
        sea_orm::sea_query::ArrayType::Uuid,
        Some(Box::new(
            items
                .iter()
                .map(|u| sea_orm::Value::Uuid(Some(*u)))
                .collect(),
        )),
    )
}

/// A migration written as plain SQL (one file per step, applied in a
/// transaction). Services list these in their `Migrator`.
pub struct SqlMigration {
    name: &'static str,
    sql: &'static str,
}

impl SqlMigration {
    /// `name` must be unique and stable (`m0001_init`); `sql` may hold
    /// several statements.
    pub const fn new(name: &'static str, sql: &'static str) -> Self {
        Self { name, sql }
    }
}

impl sea_orm_migration::MigrationName for SqlMigration {
    fn name(&self) -> &str {
        self.name
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl sea_orm_migration::MigrationTrait for SqlMigration {
    async fn up(&self, manager: &sea_orm_migration::SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(self.sql)
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::split_database;

    #[test]
    fn splits_the_database_name_off_the_url() {
        assert_eq!(
            split_database("postgres://u@h:5432/livedesk_routing?sslmode=disable"),
            Some((
                "postgres://u@h:5432/postgres?sslmode=disable".into(),
                "livedesk_routing".into()
            ))
        );
        assert_eq!(split_database("postgres://u@h:5432"), None);
    }

    /// A database that cannot be reached is told apart from work that is
    /// wrong: the pool, the link and the server going away are
    /// unavailable; a missing row or a bad value is not.
    #[test]
    fn unreachable_is_told_apart_from_wrong() {
        use std::sync::Arc;

        use sea_orm::error::ConnAcquireErr;
        use sea_orm::{DbErr, RuntimeErr, sqlx};

        use super::is_unavailable;

        let io = || {
            sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "reset",
            ))
        };
        assert!(is_unavailable(&DbErr::ConnectionAcquire(
            ConnAcquireErr::Timeout
        )));
        assert!(is_unavailable(&DbErr::ConnectionAcquire(
            ConnAcquireErr::ConnectionClosed
        )));
        assert!(is_unavailable(&DbErr::Conn(RuntimeErr::SqlxError(
            Arc::new(io())
        ))));
        assert!(is_unavailable(&DbErr::Exec(RuntimeErr::SqlxError(
            Arc::new(io())
        ))));
        assert!(is_unavailable(&DbErr::Query(RuntimeErr::SqlxError(
            Arc::new(sqlx::Error::PoolTimedOut)
        ))));
        assert!(!is_unavailable(&DbErr::RecordNotFound("x".into())));
        assert!(!is_unavailable(&DbErr::Custom("bad value".into())));
        assert!(!is_unavailable(&DbErr::Query(RuntimeErr::SqlxError(
            Arc::new(sqlx::Error::RowNotFound)
        ))));
    }
}
