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

pub(crate) use livedesk_platform::db::{int_array, text_array};
