//! Queries on `settings` and the form metadata the widget needs.
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use crate::domain::Settings;

/// A form's scope and switch, enough to decide the widget state (SCH-3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormMeta {
    pub id: Uuid,
    pub queue_id: Option<Uuid>,
    /// `FormKind` wire value.
    pub kind: i32,
    pub enabled: bool,
}

/// Settings queries.
pub struct SettingsStore;

impl SettingsStore {
    /// The org's settings (defaults when never saved).
    pub async fn get<C: ConnectionTrait>(db: &C, org: Uuid) -> Result<Settings, DbErr> {
        let row = db
            .query_one_raw(stmt(
                "SELECT out_of_hours_message, closing_soon_message, notify_email FROM settings WHERE org_id = $1",
                [org.into()],
            ))
            .await?;
        Ok(match row {
            Some(r) => Settings {
                out_of_hours_message: r.try_get("", "out_of_hours_message")?,
                closing_soon_message: r.try_get("", "closing_soon_message")?,
                notify_email: r.try_get("", "notify_email")?,
            },
            None => Settings::default(),
        })
    }

    /// Saves the org's settings.
    pub async fn put<C: ConnectionTrait>(db: &C, org: Uuid, s: &Settings) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "INSERT INTO settings (org_id, out_of_hours_message, closing_soon_message, notify_email) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (org_id) DO UPDATE SET out_of_hours_message = $2, closing_soon_message = $3, notify_email = $4, updated_at = now()",
            [
                org.into(),
                s.out_of_hours_message.clone().into(),
                s.closing_soon_message.clone().into(),
                s.notify_email.clone().into(),
            ],
        ))
        .await?;
        Ok(())
    }

    /// Scope and switch of every stored form of the org.
    pub async fn form_metas<C: ConnectionTrait>(db: &C, org: Uuid) -> Result<Vec<FormMeta>, DbErr> {
        let rows = db
            .query_all_raw(stmt(
                "SELECT id, queue_id, kind, enabled FROM forms WHERE org_id = $1",
                [org.into()],
            ))
            .await?;
        rows.iter()
            .map(|r| {
                Ok(FormMeta {
                    id: r.try_get("", "id")?,
                    queue_id: r.try_get("", "queue_id")?,
                    kind: super::forms::kind_of_label(&r.try_get::<String>("", "kind")?)?,
                    enabled: r.try_get("", "enabled")?,
                })
            })
            .collect()
    }
}
