//! The conversations export straight out of PostgreSQL (RPT-4, issue 11):
//! one `COPY (SELECT …) TO STDOUT WITH (FORMAT csv)` whose cells are
//! already in their exported form, so rows are never decoded into values
//! and formatted again here. One statement is one consistent snapshot, in
//! key order. Its bytes pass through [`Crlf`] (RFC 4180 line ends) on
//! their way to the client.
use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};
use livedesk_platform::labels::{StoredEnum, sql_list};
use livedesk_proto::common::v1::Channel;
use livedesk_proto::conversations::v1::{ConversationStatus, EndedBy};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::domain::{CsvOptions, Range, Scope};

/// A label column read back through its enum's labels: a label the
/// service does not know fails the statement (`livedesk_unknown_label`).
fn label<E: StoredEnum>(column: &str) -> String {
    format!(
        "CASE WHEN {column} IN {} THEN {column} ELSE livedesk_unknown_label('conversation_facts.{column}') END",
        sql_list(E::ALL)
    )
}

/// A timestamp as the export writes it: RFC 3339, UTC, milliseconds.
fn time(column: &str) -> String {
    format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')")
}

/// Seconds with three decimals.
fn seconds(column: &str) -> String {
    format!("round({column}::numeric, 3)")
}

/// A text cell made safe; empty text as NULL, which COPY writes as an
/// empty cell (an empty string it would quote).
fn text(expr: &str) -> String {
    format!("NULLIF(livedesk_safe_cell({expr}), '')")
}

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
/// that `scope` may see, with `options`' delimiter. `COPY` takes no bind
/// parameters, so the values are literals built above (a UUID, RFC 3339
/// timestamps, hex text).
pub fn conversations_copy(org: Uuid, range: &Range, scope: &Scope, options: CsvOptions) -> String {
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
    let cells = [
        "conversation_id".to_owned(),
        time("created_at"),
        time("ended_at"),
        text("queue_id"),
        label::<Channel>("channel"),
        "NULLIF(livedesk_safe_list(agent_ids), '')".to_owned(),
        "NULLIF(livedesk_safe_list(tags), '')".to_owned(),
        text("reason"),
        label::<ConversationStatus>("status"),
        label::<EndedBy>("ended_by"),
        seconds("wait_seconds"),
        seconds("handle_seconds"),
        seconds("first_response_seconds"),
        "message_count".to_owned(),
        text("wrap_up_code"),
        "CASE WHEN blocked THEN 'true' ELSE 'false' END".to_owned(),
    ];
    format!(
        "COPY (SELECT {} FROM conversation_facts WHERE {filter} ORDER BY ended_at, conversation_id) \
         TO STDOUT WITH (FORMAT csv, DELIMITER '{}')",
        cells.join(", "),
        if options.semicolon { ';' } else { ',' }
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

/// Turns `COPY`'s line ends (`\n`) into RFC 4180's (`\r\n`), leaving the
/// line breaks inside quoted cells alone, across pieces of any size.
#[derive(Debug, Default)]
pub struct Crlf {
    in_quotes: bool,
}

impl Crlf {
    /// Appends `piece`, converted, to `out`.
    pub fn push(&mut self, piece: &[u8], out: &mut Vec<u8>) {
        out.reserve(piece.len() + 8);
        for &b in piece {
            match b {
                // An escaped quote (`""`) toggles twice: still inside.
                b'"' => self.in_quotes = !self.in_quotes,
                b'\n' if !self.in_quotes => out.push(b'\r'),
                _ => {}
            }
            out.push(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_ends_become_crlf_and_quoted_line_breaks_stay() {
        let mut crlf = Crlf::default();
        let mut out = Vec::new();
        // Split mid-cell: the state carries over.
        crlf.push(b"a,\"x\n\"\"y", &mut out);
        crlf.push(b"\"\nb,c\n", &mut out);
        assert_eq!(out, b"a,\"x\n\"\"y\"\r\nb,c\r\n");
    }

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
        let all = conversations_copy(org, &Range::default(), &Scope::Org, CsvOptions::default());
        assert!(!all.contains("ANY (agent_ids)"));
        assert!(all.ends_with("WITH (FORMAT csv, DELIMITER ',')"));
        let mine = conversations_copy(
            org,
            &Range::default(),
            &Scope::Agent("a1".into()),
            CsvOptions {
                semicolon: true,
                bom: false,
            },
        );
        assert!(mine.contains("convert_from(decode('6131', 'hex'), 'UTF8') = ANY (agent_ids)"));
        assert!(mine.ends_with("DELIMITER ';')"));
    }
}
