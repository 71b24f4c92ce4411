//! Validated block requests: parse, don't validate (house style rule 4).
use chrono::{DateTime, Utc};
use livedesk_platform::errors::FieldViolation;
use uuid::Uuid;

use super::IpRange;

/// A block reason: optional, at most 500 characters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reason(String);

impl Reason {
    /// Trims and checks the length.
    pub fn parse(raw: &str) -> Result<Self, FieldViolation> {
        let r = raw.trim();
        if r.chars().count() > 500 {
            return Err(FieldViolation::new("reason", "at most 500 characters"));
        }
        Ok(Self(r.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A request to block the customer of a conversation (BLK-1, BLK-8).
#[derive(Debug, Clone)]
pub struct BlockRequest {
    pub conversation_id: Uuid,
    pub reason: Reason,
    pub expires_at: Option<DateTime<Utc>>,
}

impl BlockRequest {
    /// Validates every field at once, reporting all violations.
    pub fn parse(
        conversation_id: &str,
        reason: &str,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Self, Vec<FieldViolation>> {
        let mut violations = Vec::new();
        let conversation_id =
            livedesk_platform::errors::parse_uuid("conversation_id", conversation_id)
                .map_err(|v| violations.push(v))
                .ok();
        let reason = Reason::parse(reason).map_err(|v| violations.push(v)).ok();
        if expires_at.is_some_and(|e| e <= now) {
            violations.push(FieldViolation::new("expires_at", "must be in the future"));
        }
        match (conversation_id, reason) {
            (Some(conversation_id), Some(reason)) if violations.is_empty() => Ok(Self {
                conversation_id,
                reason,
                expires_at,
            }),
            _ => Err(violations),
        }
    }
}

/// A request to block an IP range: the expiry is mandatory (BLK-9),
/// because addresses are reassigned and a permanent IP block eventually
/// hits someone else.
#[derive(Debug, Clone)]
pub struct IpBlockRequest {
    pub range: IpRange,
    pub expires_at: DateTime<Utc>,
    pub reason: Reason,
}

impl IpBlockRequest {
    /// Validates every field at once.
    pub fn parse(
        cidr: &str,
        expires_at: Option<DateTime<Utc>>,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Self, Vec<FieldViolation>> {
        let mut violations = Vec::new();
        let range = IpRange::parse(cidr)
            .map_err(|m| violations.push(FieldViolation::new("ip_cidr", m)))
            .ok();
        let expires_at = match expires_at {
            None => {
                violations.push(FieldViolation::new(
                    "expires_at",
                    "an IP block always has an expiry",
                ));
                None
            }
            Some(e) if e <= now => {
                violations.push(FieldViolation::new("expires_at", "must be in the future"));
                None
            }
            Some(e) => Some(e),
        };
        let reason = Reason::parse(reason).map_err(|v| violations.push(v)).ok();
        match (range, expires_at, reason) {
            (Some(range), Some(expires_at), Some(reason)) => Ok(Self {
                range,
                expires_at,
                reason,
            }),
            _ => Err(violations),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    // spec: BLK-8
    #[test]
    fn an_expiry_must_be_in_the_future() {
        let now = Utc::now();
        let id = Uuid::now_v7().to_string();
        assert!(
            BlockRequest::parse(&id, "", None, now).is_ok(),
            "permanent block"
        );
        assert!(BlockRequest::parse(&id, "", Some(now + chrono::Duration::hours(1)), now).is_ok());
        let err =
            BlockRequest::parse(&id, "", Some(now - chrono::Duration::hours(1)), now).unwrap_err();
        assert_eq!(err[0].field, "expires_at");
    }

    // spec: BLK-9
    #[test]
    fn an_ip_block_requires_an_expiry_and_reports_every_bad_field() {
        let now = Utc::now();
        let err = IpBlockRequest::parse("nope", None, "", now).unwrap_err();
        let fields: Vec<_> = err.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["ip_cidr", "expires_at"]);
        assert!(
            IpBlockRequest::parse(
                "198.51.100.0/24",
                Some(now + chrono::Duration::days(1)),
                "spam",
                now
            )
            .is_ok()
        );
    }

    // spec: TEN-4
    #[test]
    fn a_bad_conversation_id_and_a_long_reason_are_both_reported() {
        let err = BlockRequest::parse("x", &"a".repeat(501), None, Utc::now()).unwrap_err();
        assert_eq!(err.len(), 2);
    }
}
