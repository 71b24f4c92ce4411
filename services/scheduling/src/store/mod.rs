//! PostgreSQL storage of schedules, assignments, settings and forms.

mod announcements;
mod forms;
mod migrator;
mod privacy;
mod schedules;
mod settings;

pub use announcements::Announcements;
pub use forms::{FormRow, Forms, NewSubmission, SubmissionRow};
pub use migrator::Migrator;
pub use privacy::SubjectData;
pub use schedules::Schedules;
pub use settings::{FormMeta, SettingsStore};
