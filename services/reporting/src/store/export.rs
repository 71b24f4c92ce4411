//! Export queries (RPT-4) read through a server-side cursor inside one
//! read-only REPEATABLE READ transaction: a consistent snapshot, in key
//! order, a bounded batch at a time, whatever the size of the table.
use chrono::{DateTime, Utc};
use livedesk_platform::db::stmt;
use livedesk_proto::common::v1::Channel;
use livedesk_proto::routing::v1::AgentState;
use livedesk_proto::scheduling::v1::FormKind;
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, FromQueryResult,
    IsolationLevel, QueryResult, TransactionTrait, Value,
};
use uuid::Uuid;

use super::facts::BlockState;
use crate::domain::{ExportKind, Range, Scope, UnknownLabel, parse_label};
use crate::error::Error;

/// Rows fetched per round trip: small enough to keep memory flat, large
/// enough that round trips do not dominate.
const BATCH: usize = 500;

/// A block row (EXPORT_KIND_BLOCKED_CONVERSATIONS, BLK-7).
#[derive(Debug, Clone, FromQueryResult)]
pub struct BlockRow {
    pub block_id: Uuid,
    /// Its label is checked when read.
    #[sea_orm(nested)]
    pub block: BlockState,
    /// The larger of the drops counted here and those blocking reported.
    pub dropped: i64,
}

/// An agent activity row: a state interval or a wrap-up.
#[derive(Debug, Clone, FromQueryResult)]
pub struct ActivityRow {
    pub agent_id: String,
    pub record: String,
    /// Stored label of the state entered (none for a wrap-up), checked when read.
    pub state: Option<String>,
    pub detail: String,
    pub conversation_id: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// A form submission row (values masked when stored).
#[derive(Debug, Clone, FromQueryResult)]
pub struct SubmissionRow {
    pub submission_id: Uuid,
    pub submitted_at: DateTime<Utc>,
    pub form_id: String,
    /// Stored label, checked when read.
    pub kind: String,
    pub queue_id: String,
    pub dropped: bool,
    pub field_keys: Vec<String>,
    pub field_values: Vec<String>,
}

/// The kinds read through a cursor and written by the service; the
/// conversations export is a `COPY` instead (`super::copy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorKind {
    BlockedConversations,
    AgentActivity,
    FormSubmissions,
}

impl CursorKind {
    /// The cursor kind of `kind`; `None` for the conversations export.
    pub fn of(kind: ExportKind) -> Option<Self> {
        match kind {
            ExportKind::Conversations => None,
            ExportKind::BlockedConversations => Some(Self::BlockedConversations),
            ExportKind::AgentActivity => Some(Self::AgentActivity),
            ExportKind::FormSubmissions => Some(Self::FormSubmissions),
        }
    }
}

/// One exported row of a cursor kind.
#[derive(Debug, Clone)]
pub enum ExportRow {
    Block(BlockRow),
    Activity(ActivityRow),
    Submission(SubmissionRow),
}

impl ExportRow {
    /// Refuses a row holding a label the service does not know: the export
    /// fails rather than writing an empty or made-up cell (fail closed).
    fn check_labels(&self) -> Result<(), UnknownLabel> {
        match self {
            ExportRow::Block(b) => {
                parse_label::<Channel>("blocks.channel", &b.block.channel)?;
            }
            ExportRow::Activity(a) => {
                if let Some(state) = &a.state {
                    parse_label::<AgentState>("agent_state_changes.to_state", state)?;
                }
            }
            ExportRow::Submission(s) => {
                parse_label::<FormKind>("form_submissions.kind", &s.kind)?;
            }
        }
        Ok(())
    }
}

/// The query of each kind. `$1` org, `$2`/`$3` range, `$4` the agent of an
/// agent-scoped caller (NULL for the whole org).
fn query(kind: CursorKind) -> &'static str {
    match kind {
        CursorKind::BlockedConversations => {
            "SELECT b.block_id, b.conversation_id, b.blocked_by, b.blocked_at, b.reason, b.identities, b.customer_name, \
                    b.channel, GREATEST(b.dropped_counted, b.dropped_reported) AS dropped, b.unblocked_by, b.unblocked_at, \
                    b.expires_at, b.expired \
             FROM blocks b \
             WHERE b.org_id = $1 AND b.known \
               AND ($2::timestamptz IS NULL OR b.blocked_at >= $2) AND ($3::timestamptz IS NULL OR b.blocked_at < $3) \
               AND ($4::text IS NULL OR b.blocked_by = $4 OR EXISTS ( \
                    SELECT 1 FROM conversation_facts f \
                    WHERE f.org_id = b.org_id AND f.conversation_id::text = b.conversation_id AND $4 = ANY (f.agent_ids))) \
             ORDER BY b.blocked_at, b.block_id"
        }
        // Intervals come from LEAD over all of an agent's changes, before
        // the range filter, so an interval started before the range still
        // ends where the next change is.
        CursorKind::AgentActivity => {
            "SELECT agent_id, record, state, detail, conversation_id, started_at, ended_at FROM ( \
                 SELECT agent_id, 'state' AS record, to_state AS state, away_reason AS detail, '' AS conversation_id, \
                        at AS started_at, LEAD(at) OVER (PARTITION BY agent_id ORDER BY at, event_id) AS ended_at \
                 FROM agent_state_changes WHERE org_id = $1 AND ($4::text IS NULL OR agent_id = $4) \
                 UNION ALL \
                 SELECT agent_id, 'wrap_up', NULL, code, conversation_id::text, submitted_at, NULL \
                 FROM agent_wrap_ups WHERE org_id = $1 AND ($4::text IS NULL OR agent_id = $4) \
             ) a \
             WHERE ($2::timestamptz IS NULL OR started_at >= $2) AND ($3::timestamptz IS NULL OR started_at < $3) \
             ORDER BY agent_id, started_at, record, conversation_id"
        }
        // Submissions belong to no agent: an agent-scoped caller gets none
        // (the handler refuses agents before this, this is the backstop).
        CursorKind::FormSubmissions => {
            "SELECT submission_id, submitted_at, form_id, kind, queue_id, dropped, field_keys, field_values \
             FROM form_submissions \
             WHERE org_id = $1 AND $4::text IS NULL \
               AND ($2::timestamptz IS NULL OR submitted_at >= $2) AND ($3::timestamptz IS NULL OR submitted_at < $3) \
             ORDER BY submitted_at, submission_id"
        }
    }
}

/// The cursor name of a kind. One name per kind matters: the driver
/// caches prepared statements by their text, including the row shape, so
/// a `FETCH` shared by kinds would decode one kind's rows with another's
/// columns on a reused connection.
fn cursor_name(kind: CursorKind) -> &'static str {
    match kind {
        CursorKind::BlockedConversations => "export_blocks",
        CursorKind::AgentActivity => "export_agent_activity",
        CursorKind::FormSubmissions => "export_form_submissions",
    }
}

/// An open export: a transaction holding the cursor.
pub struct ExportCursor {
    txn: DatabaseTransaction,
    kind: CursorKind,
}

impl std::fmt::Debug for ExportCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportCursor")
            .field("kind", &self.kind)
            .finish()
    }
}

impl ExportCursor {
    /// Opens the cursor over what `scope` may see of `org` within `range`.
    pub async fn open(
        db: &DatabaseConnection,
        kind: CursorKind,
        org_id: Uuid,
        range: Range,
        scope: &Scope,
    ) -> Result<Self, DbErr> {
        let txn = db
            .begin_with_config(
                Some(IsolationLevel::RepeatableRead),
                Some(AccessMode::ReadOnly),
            )
            .await?;
        let sql = format!(
            "DECLARE {} NO SCROLL CURSOR FOR {}",
            cursor_name(kind),
            query(kind)
        );
        let agent = Value::from(scope.agent().map(str::to_owned));
        txn.execute_raw(stmt(
            &sql,
            [org_id.into(), range.from.into(), range.to.into(), agent],
        ))
        .await?;
        Ok(Self { txn, kind })
    }

    /// The next batch in key order; empty at the end.
    pub async fn next_batch(&self) -> Result<Vec<ExportRow>, Error> {
        let rows = self
            .txn
            .query_all_raw(stmt(
                &format!("FETCH FORWARD {BATCH} FROM {}", cursor_name(self.kind)),
                [],
            ))
            .await?;
        rows.iter().map(|r| self.decode(r)).collect()
    }

    fn decode(&self, row: &QueryResult) -> Result<ExportRow, Error> {
        let decoded = match self.kind {
            CursorKind::BlockedConversations => {
                ExportRow::Block(BlockRow::from_query_result(row, "")?)
            }
            CursorKind::AgentActivity => {
                ExportRow::Activity(ActivityRow::from_query_result(row, "")?)
            }
            CursorKind::FormSubmissions => {
                ExportRow::Submission(SubmissionRow::from_query_result(row, "")?)
            }
        };
        decoded.check_labels()?;
        Ok(decoded)
    }

    /// Ends the read-only transaction.
    pub async fn close(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }
}
