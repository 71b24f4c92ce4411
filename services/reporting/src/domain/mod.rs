//! Pure rules of reporting: CSV cell safety and chunking, derived durations
//! of a conversation, masking of customer data, stored enum labels and
//! parsed requests.
//! No I/O here.

mod csv_out;
mod facts;
mod labels;
mod request;

pub use csv_out::{CHUNK_BYTES, ChunkedCsv, CsvOptions, safe_cell};
pub use facts::{Durations, FactTimes, identity_label, mask_customer_name, seconds_between};
pub use labels::{StoredEnum, UnknownValue, from_wire, label, label_of_wire, parse_label};
pub use request::{ExportKind, GroupBy, Range, Scope};
