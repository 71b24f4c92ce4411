//! Queue policies (CNV-16) and the qualification audit (CNV-10).
use chrono::{DateTime, Utc};
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use uuid::Uuid;

use super::text_array;
use crate::domain::Qualification;

/// One queue's mandatory qualification at the end (absent = none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, FromQueryResult)]
pub struct PolicyRow {
    pub require_tags: bool,
    pub require_contact_reason: bool,
}

/// One qualification change.
#[derive(Debug, Clone, FromQueryResult)]
pub struct AuditRow {
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
    pub before_tags: Vec<String>,
    pub before_reason: String,
    pub before_note: String,
    pub after_tags: Vec<String>,
    pub after_reason: String,
    pub after_note: String,
}

/// Policy and audit queries.
pub struct Policies;

impl Policies {
    /// The queue's policy.
    pub async fn get<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        queue: Uuid,
    ) -> Result<PolicyRow, DbErr> {
        Ok(PolicyRow::find_by_statement(stmt(
            "SELECT require_tags, require_contact_reason FROM queue_policies WHERE org_id = $1 AND queue_id = $2",
            [org.into(), queue.into()],
        ))
        .one(db)
        .await?
        .unwrap_or_default())
    }

    /// Replaces the queue's policy.
    pub async fn put<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        queue: Uuid,
        p: PolicyRow,
    ) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "INSERT INTO queue_policies (org_id, queue_id, require_tags, require_contact_reason) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (org_id, queue_id) DO UPDATE SET require_tags = $3, require_contact_reason = $4",
            [org.into(), queue.into(), p.require_tags.into(), p.require_contact_reason.into()],
        ))
        .await?;
        Ok(())
    }

    /// Changes an ended conversation's qualification and audits it, in the
    /// caller's transaction. Returns `false` when it is not ended.
    pub async fn requalify<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
        by: &str,
        before: &Qualification,
        after: &Qualification,
    ) -> Result<bool, DbErr> {
        let n = db
            .execute_raw(stmt(
                "UPDATE conversations SET qual_tags = $3, qual_reason = $4, qual_note = $5 \
                 WHERE org_id = $1 AND id = $2 AND ended_at IS NOT NULL",
                [
                    org.into(),
                    id.into(),
                    text_array(&after.tags),
                    after.contact_reason.clone().into(),
                    after.note.clone().into(),
                ],
            ))
            .await?
            .rows_affected();
        if n == 0 {
            return Ok(false);
        }
        db.execute_raw(stmt(
            "INSERT INTO qualification_audit (id, org_id, conversation_id, changed_by, before_tags, before_reason, before_note, \
               after_tags, after_reason, after_note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            [
                Uuid::now_v7().into(),
                org.into(),
                id.into(),
                by.to_owned().into(),
                text_array(&before.tags),
                before.contact_reason.clone().into(),
                before.note.clone().into(),
                text_array(&after.tags),
                after.contact_reason.clone().into(),
                after.note.clone().into(),
            ],
        ))
        .await?;
        Ok(true)
    }

    /// A conversation's qualification changes, oldest first.
    pub async fn audit<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
    ) -> Result<Vec<AuditRow>, DbErr> {
        AuditRow::find_by_statement(stmt(
            "SELECT changed_by, changed_at, before_tags, before_reason, before_note, after_tags, after_reason, after_note \
             FROM qualification_audit WHERE org_id = $1 AND conversation_id = $2 ORDER BY changed_at, id",
            [org.into(), id.into()],
        ))
        .all(db)
        .await
    }
}
