//! Per-org settings and wrap-up codes, created on first use (TEN-1).
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use crate::domain::{DEFAULT_WRAP_UP_CODES, WrapUpCodes};

/// Org-level queries.
pub struct Orgs;

impl Orgs {
    /// Creates the org's settings and default wrap-up codes if this is its
    /// first use. Replicas racing here insert once: the primary key decides.
    pub async fn ensure<C: ConnectionTrait>(db: &C, org: Uuid) -> Result<(), DbErr> {
        let fresh = db
            .execute_raw(stmt(
                "INSERT INTO org_settings (org_id) VALUES ($1) ON CONFLICT DO NOTHING",
                [org.into()],
            ))
            .await?
            .rows_affected()
            == 1;
        if fresh {
            for (i, (code, label)) in DEFAULT_WRAP_UP_CODES.iter().enumerate() {
                db.execute_raw(stmt(
                    "INSERT INTO wrap_up_codes (org_id, code, label, position) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                    [org.into(), (*code).into(), (*label).into(), (i as i32).into()],
                ))
                .await?;
            }
        }
        Ok(())
    }

    /// Seconds before an unsubmitted wrap-up closes itself (RTG-9).
    pub async fn auto_wrap_up_seconds<C: ConnectionTrait>(db: &C, org: Uuid) -> Result<i32, DbErr> {
        let row = db
            .query_one_raw(stmt(
                "SELECT auto_wrap_up_seconds FROM org_settings WHERE org_id = $1",
                [org.into()],
            ))
            .await?;
        Ok(row
            .map(|r| r.try_get::<i32>("", "auto_wrap_up_seconds"))
            .transpose()?
            .unwrap_or(300))
    }

    /// Sets the auto-wrap-up delay.
    pub async fn set_auto_wrap_up_seconds<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        secs: u32,
    ) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "UPDATE org_settings SET auto_wrap_up_seconds = $2 WHERE org_id = $1",
            [org.into(), (secs as i32).into()],
        ))
        .await?;
        Ok(())
    }

    /// The org's codes in order, as (code, label).
    pub async fn codes<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
    ) -> Result<Vec<(String, String)>, DbErr> {
        let rows = db
            .query_all_raw(stmt(
                "SELECT code, label FROM wrap_up_codes WHERE org_id = $1 ORDER BY position, code",
                [org.into()],
            ))
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("", "code")?, r.try_get("", "label")?)))
            .collect()
    }

    /// Whether `code` is one of the org's codes.
    pub async fn has_code<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        code: &str,
    ) -> Result<bool, DbErr> {
        Ok(db
            .query_one_raw(stmt(
                "SELECT 1 AS one FROM wrap_up_codes WHERE org_id = $1 AND code = $2",
                [org.into(), code.into()],
            ))
            .await?
            .is_some())
    }

    /// Replaces the org's codes.
    pub async fn set_codes<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        codes: &WrapUpCodes,
    ) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "DELETE FROM wrap_up_codes WHERE org_id = $1",
            [org.into()],
        ))
        .await?;
        for (i, (code, label)) in codes.0.iter().enumerate() {
            db.execute_raw(stmt(
                "INSERT INTO wrap_up_codes (org_id, code, label, position) VALUES ($1, $2, $3, $4)",
                [
                    org.into(),
                    code.as_str().into(),
                    label.clone().into(),
                    (i as i32).into(),
                ],
            ))
            .await?;
        }
        Ok(())
    }
}
