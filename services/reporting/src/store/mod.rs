//! PostgreSQL storage of the read model: migrations, upserts applied by the
//! event handlers, statistics and export queries.

mod activity;
mod copy;
mod export;
mod facts;
mod generation;
mod migrator;
mod privacy;
mod stats;

pub use activity::{Activity, NewStateChange, NewSubmission};
pub use copy::{conversations_copy, copy_connection, sqlx_err};
pub use export::{CursorKind, ExportCursor, ExportRow};
pub use facts::{BlockFact, BlockState, ConversationSummary, EndedFact, Facts, WrapUpFact};
pub use generation::ensure_generation;
pub use migrator::Migrator;
pub use privacy::SubjectData;
pub use stats::statistics;
