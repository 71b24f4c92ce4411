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

/// A PostgreSQL text array parameter.
pub(crate) fn text_array(items: &[String]) -> sea_orm::Value {
    sea_orm::Value::Array(
        sea_orm::sea_query::ArrayType::String,
        Some(Box::new(
            items
                .iter()
                .map(|s| sea_orm::Value::String(Some(s.clone())))
                .collect(),
        )),
    )
}

/// A PostgreSQL integer array parameter.
pub(crate) fn int_array(items: &[i32]) -> sea_orm::Value {
    sea_orm::Value::Array(
        sea_orm::sea_query::ArrayType::Int,
        Some(Box::new(
            items
                .iter()
                .map(|n| sea_orm::Value::Int(Some(*n)))
                .collect(),
        )),
    )
}
