//! Store rows to protobuf messages.
use livedesk_platform::time::to_proto;
use livedesk_proto::notifications::v1 as pb;
use prost::Message as _;

use crate::store::{EmailRow, FeedRow};

/// The API view of an email delivery (no addresses, no bodies).
pub fn delivery(row: &EmailRow) -> pb::EmailDelivery {
    pb::EmailDelivery {
        id: row.id.to_string(),
        kind: row.kind.clone(),
        status: row.status,
        attempts: u32::try_from(row.attempts).unwrap_or(0),
        last_error: row.last_error.clone(),
        updated_at: Some(to_proto(row.updated_at)),
        request_id: row.request_id.clone(),
    }
}

/// A feed row as sent: the stored body with its sequence and time.
pub fn notification(row: &FeedRow) -> Result<pb::Notification, prost::DecodeError> {
    let mut n = pb::Notification::decode(row.body.as_slice())?;
    n.sequence = u64::try_from(row.seq).unwrap_or(0);
    n.at = Some(to_proto(row.created_at));
    Ok(n)
}
