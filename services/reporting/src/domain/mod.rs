//! Pure rules of reporting: CSV cell safety and chunking, derived durations
//! of a conversation, masking of customer data and parsed requests
//! (enums are stored as `livedesk_platform::labels`).
//! No I/O here.

mod copy_csv;
mod csv_out;
mod facts;
mod request;

pub use copy_csv::{ConversationCsv, CopyRowsError, SELECT_COLUMNS, round3};
pub use csv_out::{CHUNK_BYTES, ChunkedCsv, CsvOptions, safe_cell};
pub use facts::{Durations, FactTimes, identity_label, mask_customer_name, seconds_between};
pub use livedesk_platform::labels::{
    StoredEnum, UnknownLabel, from_wire, label, label_of_wire, parse_label,
};
pub use request::{ExportKind, GroupBy, Range, Scope};
