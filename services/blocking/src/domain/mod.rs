//! Pure rules of blocking: what a valid block request is, IP ranges.
//! No I/O here.

mod ip;
mod request;

pub use ip::IpRange;
pub use livedesk_platform::labels::UnknownLabel;
pub use request::{BlockRequest, IpBlockRequest, Reason};
