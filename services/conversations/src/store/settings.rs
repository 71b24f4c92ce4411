//! Per-org settings (CNV-9, CNV-13): an org without a row has the defaults.
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use uuid::Uuid;

/// An org's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromQueryResult)]
pub struct SettingsRow {
    pub mask_pii: bool,
    pub natural_close_days: i32,
    pub retention_days: i32,
}

impl Default for SettingsRow {
    fn default() -> Self {
        Self {
            mask_pii: true,
            natural_close_days: 7,
            retention_days: 0,
        }
    }
}

/// Settings queries.
pub struct Settings;

impl Settings {
    /// The org's settings, defaults when never changed (TEN-1).
    pub async fn get<C: ConnectionTrait>(db: &C, org: Uuid) -> Result<SettingsRow, DbErr> {
        Ok(SettingsRow::find_by_statement(stmt(
            "SELECT mask_pii, natural_close_days, retention_days FROM settings WHERE org_id = $1",
            [org.into()],
        ))
        .one(db)
        .await?
        .unwrap_or_default())
    }

    /// Replaces the org's settings.
    pub async fn put<C: ConnectionTrait>(db: &C, org: Uuid, s: SettingsRow) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "INSERT INTO settings (org_id, mask_pii, natural_close_days, retention_days) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (org_id) DO UPDATE SET mask_pii = $2, natural_close_days = $3, retention_days = $4",
            [org.into(), s.mask_pii.into(), s.natural_close_days.into(), s.retention_days.into()],
        ))
        .await?;
        Ok(())
    }
}
