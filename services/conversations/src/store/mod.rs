//! PostgreSQL storage of conversations: migrations and queries. Every
//! query is scoped by org (TEN-2).

mod attachments;
mod blocked;
mod conversations;
mod emails;
mod forms;
mod listing;
mod messages;
mod migrator;
mod policies;
mod privacy;
mod queue_members;
mod requests;
mod settings;
mod tags;
mod templates;
mod transitions;

pub use attachments::{AttachmentRow, Attachments};
pub use blocked::BlockedCache;
pub use conversations::{ConvRow, Conversations, EndChange, NewConversation};
pub use emails::{EmailRow, Emails, NewEmail};
pub use forms::{FormCopies, FormCopyRow, NewFormCopy};
pub use listing::ListFilter;
pub use messages::{MessageRow, Messages};
pub use migrator::Migrator;
pub use policies::{Policies, PolicyRow};
pub use privacy::{ErasureRow, Privacy, identity_digest};
pub use queue_members::QueueMembers;
pub(crate) use queue_members::agent_sees;
pub use requests::{ContactRow, RequestChange, RequestFilter, RequestRow, Requests};
pub use settings::{Settings, SettingsRow};
pub use tags::{TagRow, Tags};
pub use templates::{TemplateRow, Templates};

pub(crate) use livedesk_platform::db::text_array;

use livedesk_platform::labels::{StoredEnum, label_of_wire, wire_of_label};
use sea_orm::{DbErr, QueryResult, Value};

/// Reads the label in `col` of a row and gives its wire number; an
/// unknown label is refused. `column` names the table column.
pub(crate) fn read_label<E: StoredEnum + Into<i32>>(
    res: &QueryResult,
    pre: &str,
    col: &str,
    column: &'static str,
) -> Result<i32, DbErr> {
    let stored: String = res.try_get(pre, col)?;
    wire_of_label::<E>(column, &stored).map_err(DbErr::from)
}

/// The label of the wire number `n` as a query parameter; a number
/// outside the enum is refused.
pub(crate) fn bind_label<E: StoredEnum + Into<i32>>(
    column: &'static str,
    n: i32,
) -> Result<Value, DbErr> {
    Ok(label_of_wire::<E>(column, n).map_err(DbErr::from)?.into())
}

/// Labels of wire numbers as a `text[]` query parameter.
pub(crate) fn bind_labels<E: StoredEnum + Into<i32>>(
    column: &'static str,
    ns: &[i32],
) -> Result<Value, DbErr> {
    let labels = ns
        .iter()
        .map(|n| label_of_wire::<E>(column, *n).map(str::to_owned))
        .collect::<Result<Vec<_>, _>>()
        .map_err(DbErr::from)?;
    Ok(text_array(&labels))
}

/// The label a filter on the wire number `n` compares with. A number
/// outside the enum has no label and a filter on it matches no row, as it
/// did when numbers were stored: it compares with the number's digits,
/// which the column's CHECK never lets in.
pub(crate) fn filter_label<E: StoredEnum + Into<i32>>(n: i32) -> String {
    label_of_wire::<E>("filter", n).map_or_else(|_| n.to_string(), str::to_owned)
}
