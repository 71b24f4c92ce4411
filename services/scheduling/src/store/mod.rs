//! PostgreSQL storage of schedules, assignments, settings and forms.

mod migrator;
mod schedules;
mod settings;

pub use migrator::Migrator;
pub use schedules::Schedules;
pub use settings::{FormMeta, SettingsStore};
