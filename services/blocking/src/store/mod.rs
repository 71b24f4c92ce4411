//! PostgreSQL storage of blocks: migrations and queries.

mod blocks;
mod migrator;
mod privacy;

#[cfg(test)]
pub use blocks::ActiveRow;
pub use blocks::{ActiveBlocks, BlockRow, Blocks, NewBlock};
pub use migrator::Migrator;
pub use privacy::{SubjectData, with_key};
