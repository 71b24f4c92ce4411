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

pub(crate) use livedesk_platform::db::{text_array, uuid_array};
