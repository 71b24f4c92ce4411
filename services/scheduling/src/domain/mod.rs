//! Pure rules of scheduling: schedules and their evaluation, widget state,
//! settings. No I/O here (no tonic, sea-orm or async-nats).

mod evaluate;
#[cfg(test)]
mod evaluate_tests;
mod form;
mod schedule;
mod settings;
mod widget;

pub use evaluate::{Evaluation, evaluate};
pub use form::{BUILT_IN, FieldKind, FormSpec, RawField, built_in_fields};
pub use schedule::{Exception, Hours, Interval, RawException, RawSchedule, Schedule, parse_date};
pub use settings::{DEFAULT_CLOSING_SOON, DEFAULT_OUT_OF_HOURS, Settings};
pub use widget::{ChannelKind, WidgetMode, decide};
