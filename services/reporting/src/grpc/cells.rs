//! Headers and cells of each export kind (RPT-4, BLK-7). Every text cell
//! that can hold user-supplied text passes through `safe_cell`.
//! Enum columns are written as stored: their labels are the CSV's words
//! (`web_chat`, `blocked`), checked when the row was read.
use chrono::{DateTime, SecondsFormat, Utc};

use crate::domain::{ExportKind, safe_cell, seconds_between};
use crate::store::ExportRow;

/// The header row of a kind.
pub fn header(kind: ExportKind) -> &'static [&'static str] {
    match kind {
        ExportKind::Conversations => &[
            "conversation_id",
            "created_at",
            "ended_at",
            "queue_id",
            "channel",
            "agents",
            "tags",
            "reason",
            "status",
            "ended_by",
            "wait_seconds",
            "handle_seconds",
            "first_response_seconds",
            "messages",
            "wrap_up_code",
            "blocked",
        ],
        ExportKind::BlockedConversations => &[
            "block_id",
            "conversation_id",
            "blocked_by",
            "blocked_at",
            "reason",
            "customer_identity",
            "customer_name",
            "channel",
            "dropped_messages",
            "unblocked_by",
            "unblocked_at",
            "expires_at",
            "expired",
        ],
        ExportKind::AgentActivity => &[
            "agent_id",
            "record",
            "state",
            "reason_or_code",
            "conversation_id",
            "started_at",
            "ended_at",
            "duration_seconds",
        ],
        ExportKind::FormSubmissions => &[
            "submission_id",
            "submitted_at",
            "form_id",
            "kind",
            "queue_id",
            "dropped",
            "fields",
        ],
    }
}

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_default()
}

fn secs(s: Option<f64>) -> String {
    s.map(|s| format!("{s:.3}")).unwrap_or_default()
}

fn text(s: &str) -> String {
    safe_cell(s).into_owned()
}

fn yes_no(b: bool) -> String {
    if b { "true" } else { "false" }.to_owned()
}

/// The cells of one row, in header order.
pub fn cells(row: &ExportRow) -> Vec<String> {
    match row {
        ExportRow::Block(row) => {
            let b = &row.block;
            vec![
                row.block_id.to_string(),
                text(&b.conversation_id),
                text(&b.blocked_by),
                time(b.blocked_at),
                text(&b.reason),
                text(&b.identities),
                text(&b.customer_name),
                b.channel.clone(),
                row.dropped.to_string(),
                text(&b.unblocked_by),
                time(b.unblocked_at),
                time(b.expires_at),
                yes_no(b.expired),
            ]
        }
        ExportRow::Activity(a) => vec![
            text(&a.agent_id),
            a.record.clone(),
            a.state.clone().unwrap_or_default(),
            text(&a.detail),
            text(&a.conversation_id),
            time(Some(a.started_at)),
            time(a.ended_at),
            secs(a.ended_at.map(|e| seconds_between(a.started_at, e))),
        ],
        ExportRow::Submission(s) => vec![
            s.submission_id.to_string(),
            time(Some(s.submitted_at)),
            text(&s.form_id),
            s.kind.clone(),
            text(&s.queue_id),
            yes_no(s.dropped),
            text(
                &s.field_keys
                    .iter()
                    .zip(&s.field_values)
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        ],
    }
}
