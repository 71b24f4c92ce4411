//! Stored rows as the protobuf messages both rooms send: `grpc/` answers
//! with them and `events/` stages them in `EmailDeliveryChanged`, so
//! neither imports the other. A row that does not read back is a
//! [`Corrupt`] error, never skipped nor defaulted.
use livedesk_platform::labels::parse_label;
use livedesk_platform::time::to_proto;
use livedesk_proto::notifications::v1 as pb;
use prost::Message as _;

use crate::domain::Status;
use crate::error::Corrupt;
use crate::store::{EmailRow, FeedRow};

/// The API view of an email delivery (no addresses, no bodies).
pub fn delivery(row: &EmailRow) -> Result<pb::EmailDelivery, Corrupt> {
    let corrupt = |what, value: String| Corrupt::Delivery {
        id: row.id,
        what,
        value,
    };
    let status = parse_label::<Status>("email_deliveries.status", &row.status)
        .map_err(|_| corrupt("status", row.status.clone()))?;
    let attempts =
        u32::try_from(row.attempts).map_err(|_| corrupt("attempts", row.attempts.to_string()))?;
    Ok(pb::EmailDelivery {
        id: row.id.to_string(),
        kind: row.kind.clone(),
        status: status.as_i32(),
        attempts,
        last_error: row.last_error.clone(),
        updated_at: Some(to_proto(row.updated_at)),
        request_id: row.request_id.clone(),
    })
}

/// A feed row as sent: the stored body with its sequence and time.
pub fn notification(row: &FeedRow) -> Result<pb::Notification, Corrupt> {
    let corrupt = |cause: String| Corrupt::FeedRow {
        seq: row.seq,
        cause,
    };
    let mut n =
        pb::Notification::decode(row.body.as_slice()).map_err(|e| corrupt(e.to_string()))?;
    n.sequence = u64::try_from(row.seq).map_err(|_| corrupt("negative sequence".into()))?;
    n.at = Some(to_proto(row.created_at));
    Ok(n)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn email(status: &str, attempts: i32) -> EmailRow {
        EmailRow {
            id: uuid::Uuid::nil(),
            kind: "transcript".into(),
            status: status.into(),
            attempts,
            last_error: String::new(),
            updated_at: chrono::Utc::now(),
            request_id: "r".into(),
        }
    }

    #[test]
    fn a_delivery_with_an_unknown_stored_status_is_corrupt_not_defaulted() {
        assert_eq!(
            delivery(&email("sent", 1)).unwrap().status,
            pb::DeliveryStatus::Sent as i32
        );
        assert!(matches!(
            delivery(&email("delivered", 1)),
            Err(Corrupt::Delivery { what: "status", .. })
        ));
        assert!(matches!(
            delivery(&email("sent", -1)),
            Err(Corrupt::Delivery {
                what: "attempts",
                ..
            })
        ));
    }

    #[test]
    fn an_undecodable_feed_row_is_corrupt() {
        let row = FeedRow {
            seq: 7,
            created_at: chrono::Utc::now(),
            body: vec![0xff, 0xff, 0xff],
        };
        assert!(matches!(
            notification(&row),
            Err(Corrupt::FeedRow { seq: 7, .. })
        ));
    }
}
