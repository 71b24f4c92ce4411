//! Inserts of agent state changes and form submissions: facts that never
//! change once recorded, keyed so a repeated event inserts nothing.
use chrono::{DateTime, Utc};
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

/// One `AgentStateChanged` event.
#[derive(Debug, Clone)]
pub struct NewStateChange {
    pub event_id: Uuid,
    pub org_id: Uuid,
    pub agent_id: String,
    /// Stored label (`crate::domain::label`).
    pub from_state: String,
    /// Stored label.
    pub to_state: String,
    pub away_reason: String,
    pub changed_by: String,
    pub at: DateTime<Utc>,
}

/// One `FormSubmitted` event, values already masked.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    pub org_id: Uuid,
    pub submission_id: Uuid,
    pub form_id: String,
    /// Stored label.
    pub kind: String,
    pub queue_id: String,
    pub submitted_at: DateTime<Utc>,
    pub dropped: bool,
    pub field_keys: Vec<String>,
    pub field_values: Vec<String>,
}

/// Writes of agent activity and form submissions.
pub struct Activity;

impl Activity {
    /// Records a state change (once per event id).
    pub async fn insert_state_change<C: ConnectionTrait>(
        db: &C,
        c: &NewStateChange,
    ) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "INSERT INTO agent_state_changes (event_id, org_id, agent_id, from_state, to_state, away_reason, changed_by, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            [
                c.event_id.into(),
                c.org_id.into(),
                c.agent_id.clone().into(),
                c.from_state.clone().into(),
                c.to_state.clone().into(),
                c.away_reason.clone().into(),
                c.changed_by.clone().into(),
                c.at.into(),
            ],
        ))
        .await
        .map(|_| ())
    }

    /// Records a form submission (once per submission id).
    pub async fn insert_submission<C: ConnectionTrait>(
        db: &C,
        s: &NewSubmission,
    ) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "INSERT INTO form_submissions (org_id, submission_id, form_id, kind, queue_id, submitted_at, dropped, field_keys, field_values) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
            [
                s.org_id.into(),
                s.submission_id.into(),
                s.form_id.clone().into(),
                s.kind.clone().into(),
                s.queue_id.clone().into(),
                s.submitted_at.into(),
                s.dropped.into(),
                s.field_keys.clone().into(),
                s.field_values.clone().into(),
            ],
        ))
        .await
        .map(|_| ())
    }
}
