//! Store rows to their protobuf views, shared by the gRPC handlers and the
//! events the service publishes (so `events/` never imports `grpc/`).
use livedesk_platform::time::{opt_to_proto, to_proto};
use livedesk_proto::blocking::v1 as pb;
use livedesk_proto::common::v1::CustomerIdentity;

use crate::store::BlockRow;

/// Builds the API view of a block. Identity values are masked for people
/// (CNV-9 formats), shown in full to services.
pub fn block(row: &BlockRow, now: chrono::DateTime<chrono::Utc>, mask: bool) -> pb::Block {
    let identities = row
        .identities
        .iter()
        .map(|(kind, value)| CustomerIdentity {
            kind: *kind as i32,
            value: if mask {
                livedesk_pii::mask_pii(value)
            } else {
                value.clone()
            },
        })
        .collect();
    pb::Block {
        id: row.id.to_string(),
        conversation_id: row
            .conversation_id
            .map(|c| c.to_string())
            .unwrap_or_default(),
        identities,
        ip_cidr: row.ip_cidr.clone().unwrap_or_default(),
        reason: row.reason.clone(),
        blocked_by: row.blocked_by.clone(),
        blocked_at: Some(to_proto(row.blocked_at)),
        expires_at: opt_to_proto(row.expires_at),
        unblocked_by: row.unblocked_by.clone().unwrap_or_default(),
        unblocked_at: opt_to_proto(row.unblocked_at),
        dropped_messages: u64::try_from(row.dropped_messages).unwrap_or(0),
        active: row.active_at(now),
        channel: row.channel as i32,
        customer_name: if mask {
            livedesk_pii::mask_name(&row.customer_name)
        } else {
            row.customer_name.clone()
        },
    }
}
