//! Looking into a service's database from a test.
use sea_orm::{ConnectionTrait, DatabaseConnection};

impl crate::TestEnv {
    /// A connection to this test's database of `service` (the one
    /// [`TestEnv::service_env`](crate::TestEnv::service_env) gives it).
    pub async fn db(&self, service: &str) -> anyhow::Result<DatabaseConnection> {
        Ok(sea_orm::Database::connect(self.database_url(service)).await?)
    }
}

/// Runs `sql` (with `$1`… bound to `values`) and returns the first column
/// of its one row as a count: `SELECT count(*) FROM …`, named or not.
pub async fn count(
    db: &DatabaseConnection,
    sql: &str,
    values: impl IntoIterator<Item = sea_orm::Value>,
) -> anyhow::Result<i64> {
    let row = db
        .query_one_raw(livedesk_platform::db::stmt(sql, values))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no row from {sql}"))?;
    Ok(row.try_get_by_index::<i64>(0)?)
}
