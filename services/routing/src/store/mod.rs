//! PostgreSQL storage of routing: migrations and queries. Every query is
//! scoped by org (TEN-2); concurrency rules live in the SQL (RTG-6).

mod agents;
mod conversations;
mod migrator;
mod offers;
mod orgs;
mod queues;

pub use agents::{AgentRow, Agents, NewAgent};
pub use conversations::{Entries, LegRow, Legs, NewEntry};
pub use migrator::Migrator;
pub use offers::{OfferRow, Offers};
pub use orgs::Orgs;
pub use queues::{QueueRow, Queues};

/// A `text[]` parameter.
pub(crate) fn text_array(v: &[String]) -> sea_orm::Value {
    sea_orm::Value::Array(
        sea_orm::sea_query::ArrayType::String,
        Some(Box::new(
            v.iter()
                .map(|s| sea_orm::Value::String(Some(s.clone())))
                .collect(),
        )),
    )
}

/// A `uuid[]` parameter.
pub(crate) fn uuid_array(v: &[uuid::Uuid]) -> sea_orm::Value {
    sea_orm::Value::Array(
        sea_orm::sea_query::ArrayType::Uuid,
        Some(Box::new(
            v.iter().map(|s| sea_orm::Value::Uuid(Some(*s))).collect(),
        )),
    )
}
