//! PostgreSQL storage of routing: migrations and queries. Every query is
//! scoped by org (TEN-2); concurrency rules live in the SQL (RTG-6).

mod agents;
mod backlog;
mod entries;
mod legs;
mod memberships;
mod migrator;
mod offers;
mod orgs;
mod positions;
mod privacy;
mod queues;
mod transfers;

pub use agents::{AgentRow, Agents, NewAgent};
pub use backlog::Backlog;
pub use entries::{Entries, EntryRow, NewEntry, WaitingCursor};
pub use legs::{LegRow, Legs};
pub use memberships::Memberships;
pub use migrator::Migrator;
pub use offers::{NewOffer, OfferRow, Offers};
pub use orgs::Orgs;
pub use positions::Positions;
pub use privacy::SubjectData;
pub use queues::{QueueRow, Queues};
pub use transfers::Transfers;

pub(crate) use livedesk_platform::db::{int_array, text_array, uuid_array};
