//! PostgreSQL storage: feeds, what is known of conversations, email
//! deliveries, and the migrations.

mod conversations;
mod emails;
mod feed;
mod migrator;
mod privacy;

pub use conversations::{Conversations, Tracked};
pub use emails::{Claimed, EmailRow, Emails, NewEmail};
pub use feed::{Append, Feed, FeedRow};
pub use migrator::Migrator;
pub use privacy::SubjectData;
