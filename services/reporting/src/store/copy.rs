//! The conversations export straight out of PostgreSQL (RPT-4, issue 11):
//! one `COPY (SELECT <stored columns>) TO STDOUT WITH (FORMAT binary)`,
//! one consistent snapshot in key order, whose rows
//! [`crate::domain::ConversationCsv`] writes as CSV. PostgreSQL does no
//! more than for a plain `COPY` of the table; the formatting runs in the
//! service, beside it, not after it.
use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::domain::{Range, SELECT_COLUMNS, Scope};

/// A timestamp literal (RFC 3339 from chrono: digits, `-`, `:`, `.`, `T`,
/// `Z` only, so nothing to escape).
fn timestamp(t: DateTime<Utc>) -> String {
    format!(
        "'{}'::timestamptz",
        t.to_rfc3339_opts(SecondsFormat::Micros, true)
    )
}

/// A text literal that nothing in it can break out of: its UTF-8 bytes in
/// hex, decoded by the server.
fn text_literal(s: &str) -> String {
    let mut hex = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        let _ = write!(hex, "{b:02x}");
    }
    format!("convert_from(decode('{hex}', 'hex'), 'UTF8')")
}

/// The `COPY` statement of `org`'s ended conversations within `range`
/// that `scope` may see. `COPY` takes no bind parameters, so the values
/// are literals built above (a UUID, RFC 3339 timestamps, hex text).
pub fn conversations_copy(org: Uuid, range: &Range, scope: &Scope) -> String {
    let mut filter = format!("org_id = '{org}' AND ended_at IS NOT NULL");
    if let Some(from) = range.from {
        let _ = write!(filter, " AND ended_at >= {}", timestamp(from));
    }
    if let Some(to) = range.to {
        let _ = write!(filter, " AND ended_at < {}", timestamp(to));
    }
    if let Some(agent) = scope.agent() {
        let _ = write!(filter, " AND {} = ANY (agent_ids)", text_literal(agent));
    }
    format!(
        "COPY (SELECT {SELECT_COLUMNS} FROM conversation_facts WHERE {filter} \
         ORDER BY ended_at, conversation_id) TO STDOUT WITH (FORMAT binary)"
    )
}

/// A connection of its own for one `COPY`: a `COPY` left unread (the
/// client went away) must close its connection, never return it to the
/// pool mid-stream ([`sea_orm::sqlx::pool::PoolConnection::close_on_drop`]).
pub async fn copy_connection(
    db: &DatabaseConnection,
) -> Result<sea_orm::sqlx::pool::PoolConnection<sea_orm::sqlx::Postgres>, sea_orm::DbErr> {
    db.get_postgres_connection_pool()
        .acquire()
        .await
        .map_err(sqlx_err)
}

/// A driver error as the service's database error.
pub fn sqlx_err(e: sea_orm::sqlx::Error) -> sea_orm::DbErr {
    sea_orm::DbErr::Query(sea_orm::RuntimeErr::SqlxError(e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_cannot_be_broken_out_of() {
        assert_eq!(
            text_literal("a'); DROP TABLE x; --"),
            "convert_from(decode('6127293b2044524f50205441424c4520783b202d2d', 'hex'), 'UTF8')"
        );
        assert_eq!(
            timestamp(DateTime::from_timestamp(0, 5000).unwrap_or_default()),
            "'1970-01-01T00:00:00.000005Z'::timestamptz"
        );
    }

    #[test]
    fn an_agents_export_is_filtered_to_their_conversations() {
        let org = Uuid::nil();
        let all = conversations_copy(org, &Range::default(), &Scope::Org);
        assert!(!all.contains("ANY (agent_ids)"));
        assert!(all.ends_with("WITH (FORMAT binary)"));
        let mine = conversations_copy(org, &Range::default(), &Scope::Agent("a1".into()));
        assert!(mine.contains("convert_from(decode('6131', 'hex'), 'UTF8') = ANY (agent_ids)"));
    }
}
