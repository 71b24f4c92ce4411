//! PostgreSQL storage of blocks: migrations and queries.

mod blocks;
mod migrator;

pub use blocks::{BlockRow, Blocks, NewBlock};
pub use migrator::Migrator;
