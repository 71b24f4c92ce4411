//! PostgreSQL storage of blocks: migrations and queries.

mod blocks;
mod migrator;
mod privacy;

pub use blocks::{BlockRow, Blocks, NewBlock};
pub use migrator::Migrator;
pub use privacy::SubjectData;
