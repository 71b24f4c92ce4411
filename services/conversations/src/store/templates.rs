//! Queries on `templates` (CNV-5).
use chrono::{DateTime, Utc};
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use uuid::Uuid;

/// One template.
#[derive(Debug, Clone, FromQueryResult)]
pub struct TemplateRow {
    pub id: Uuid,
    pub name: String,
    pub body: String,
    pub updated_at: DateTime<Utc>,
}

/// Template queries.
pub struct Templates;

impl Templates {
    /// Inserts a template; `None` when the name is taken in the org.
    pub async fn insert<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        name: &str,
        body: &str,
    ) -> Result<Option<TemplateRow>, DbErr> {
        TemplateRow::find_by_statement(stmt(
            "INSERT INTO templates (id, org_id, name, body) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING \
             RETURNING id, name, body, updated_at",
            [Uuid::now_v7().into(), org.into(), name.to_owned().into(), body.to_owned().into()],
        ))
        .one(db)
        .await
    }

    /// Replaces name and body; `None` when absent from the org.
    pub async fn update<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
        name: &str,
        body: &str,
    ) -> Result<Option<TemplateRow>, DbErr> {
        TemplateRow::find_by_statement(stmt(
            "UPDATE templates SET name = $3, body = $4, updated_at = now() WHERE org_id = $1 AND id = $2 \
             RETURNING id, name, body, updated_at",
            [org.into(), id.into(), name.to_owned().into(), body.to_owned().into()],
        ))
        .one(db)
        .await
    }

    /// Deletes; returns whether it existed.
    pub async fn delete<C: ConnectionTrait>(db: &C, org: Uuid, id: Uuid) -> Result<bool, DbErr> {
        Ok(db
            .execute_raw(stmt(
                "DELETE FROM templates WHERE org_id = $1 AND id = $2",
                [org.into(), id.into()],
            ))
            .await?
            .rows_affected()
            == 1)
    }

    /// One template of the org.
    pub async fn get<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
    ) -> Result<Option<TemplateRow>, DbErr> {
        TemplateRow::find_by_statement(stmt(
            "SELECT id, name, body, updated_at FROM templates WHERE org_id = $1 AND id = $2",
            [org.into(), id.into()],
        ))
        .one(db)
        .await
    }

    /// Every template of the org, by name.
    pub async fn list<C: ConnectionTrait>(db: &C, org: Uuid) -> Result<Vec<TemplateRow>, DbErr> {
        TemplateRow::find_by_statement(stmt(
            "SELECT id, name, body, updated_at FROM templates WHERE org_id = $1 ORDER BY lower(name), id",
            [org.into()],
        ))
        .all(db)
        .await
    }
}
