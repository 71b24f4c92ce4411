//! Queries on `tags` and the tagged history that teaches recommendation (CNV-11).
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use uuid::Uuid;

use super::text_array;

/// The authors whose texts teach and feed recommendation: the customer
/// and agents (stored labels of `Author::Customer`, `Author::Agent`).
const TEXT_AUTHORS: &str = "('customer', 'agent')";

/// One tag.
#[derive(Debug, Clone, FromQueryResult)]
pub struct TagRow {
    pub id: Uuid,
    pub name: String,
    pub category: String,
    pub keywords: Vec<String>,
}

/// One ended, tagged conversation's tags and visible text.
#[derive(Debug, Clone, FromQueryResult)]
pub struct TaggedRow {
    pub qual_tags: Vec<String>,
    pub text: String,
}

/// Tag queries.
pub struct Tags;

impl Tags {
    /// The org's tags by category and name.
    pub async fn list<C: ConnectionTrait>(db: &C, org: Uuid) -> Result<Vec<TagRow>, DbErr> {
        TagRow::find_by_statement(stmt(
            "SELECT id, name, category, keywords FROM tags WHERE org_id = $1 ORDER BY lower(category), lower(name), id",
            [org.into()],
        ))
        .all(db)
        .await
    }

    /// Creates a tag, or updates the one with the same name.
    pub async fn upsert_by_name<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        name: &str,
        category: &str,
        keywords: &[String],
    ) -> Result<Option<TagRow>, DbErr> {
        TagRow::find_by_statement(stmt(
            "INSERT INTO tags (id, org_id, name, category, keywords) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (org_id, lower(name)) DO UPDATE SET name = EXCLUDED.name, category = EXCLUDED.category, \
               keywords = EXCLUDED.keywords \
             RETURNING id, name, category, keywords",
            [
                Uuid::now_v7().into(),
                org.into(),
                name.to_owned().into(),
                category.to_owned().into(),
                text_array(keywords),
            ],
        ))
        .one(db)
        .await
    }

    /// Updates a tag by id; `None` when absent (or the new name is taken:
    /// the unique index `tags_name` answers with an error the caller maps).
    pub async fn update<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
        name: &str,
        category: &str,
        keywords: &[String],
    ) -> Result<Option<TagRow>, DbErr> {
        TagRow::find_by_statement(stmt(
            "UPDATE tags SET name = $3, category = $4, keywords = $5 WHERE org_id = $1 AND id = $2 \
             RETURNING id, name, category, keywords",
            [
                org.into(),
                id.into(),
                name.to_owned().into(),
                category.to_owned().into(),
                text_array(keywords),
            ],
        ))
        .one(db)
        .await
    }

    /// Whether another tag of the org has this name.
    pub async fn name_taken<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        name: &str,
        except: Uuid,
    ) -> Result<bool, DbErr> {
        Ok(db
            .query_one_raw(stmt(
                "SELECT 1 AS one FROM tags WHERE org_id = $1 AND lower(name) = lower($2) AND id <> $3",
                [org.into(), name.to_owned().into(), except.into()],
            ))
            .await?
            .is_some())
    }

    /// The `limit` most recently ended tagged conversations of the org
    /// (other than `except`), each text bounded, for learning.
    pub async fn history<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        except: Uuid,
        limit: u64,
    ) -> Result<Vec<TaggedRow>, DbErr> {
        TaggedRow::find_by_statement(stmt(
            &format!(
                "SELECT c.qual_tags, left(COALESCE((SELECT string_agg(m.text, ' ' ORDER BY m.sequence) FROM messages m \
                   WHERE m.conversation_id = c.id AND NOT m.hidden AND m.author_kind IN {TEXT_AUTHORS}), ''), 20000) AS text \
                 FROM conversations c WHERE c.org_id = $1 AND c.id <> $2 AND c.ended_at IS NOT NULL \
                   AND cardinality(c.qual_tags) > 0 \
                 ORDER BY c.ended_at DESC LIMIT $3"
            ),
            [org.into(), except.into(), i64::try_from(limit).unwrap_or(500).into()],
        ))
        .all(db)
        .await
    }

    /// A conversation's visible customer and agent text, bounded.
    pub async fn text_of<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation_id: Uuid,
    ) -> Result<String, DbErr> {
        let row = db
            .query_one_raw(stmt(
                &format!(
                    "SELECT left(COALESCE(string_agg(text, ' ' ORDER BY sequence), ''), 50000) AS text FROM messages \
                     WHERE org_id = $1 AND conversation_id = $2 AND NOT hidden AND author_kind IN {TEXT_AUTHORS}"
                ),
                [org.into(), conversation_id.into()],
            ))
            .await?;
        Ok(row
            .map(|r| r.try_get::<String>("", "text"))
            .transpose()?
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod label_tests {
    use crate::domain::Author;
    use crate::domain::labels::author_label;

    #[test]
    fn the_text_authors_are_the_customer_and_agent_labels() {
        assert_eq!(
            super::TEXT_AUTHORS,
            format!(
                "('{}', '{}')",
                author_label(Author::Customer),
                author_label(Author::Agent)
            )
        );
    }
}
