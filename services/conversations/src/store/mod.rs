//! PostgreSQL storage of conversations: migrations and queries. Every
//! query is scoped by org (TEN-2).

mod blocked;
mod conversations;
mod messages;
mod migrator;
mod policies;
mod settings;
mod templates;

pub use blocked::BlockedCache;
pub use conversations::{ConvRow, Conversations, EndChange, ListFilter, NewConversation};
pub use messages::{MessageRow, Messages};
pub use migrator::Migrator;
pub use policies::{Policies, PolicyRow};
pub use settings::{Settings, SettingsRow};
pub use templates::{TemplateRow, Templates};

pub(crate) use livedesk_platform::db::{int_array, text_array};
