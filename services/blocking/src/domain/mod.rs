//! Pure rules of blocking: what a valid block request is, IP ranges.
//! No I/O here.

mod ip;
pub mod labels;
mod request;

pub use ip::IpRange;
pub use labels::UnknownLabel;
pub use request::{BlockRequest, IpBlockRequest, Reason};
