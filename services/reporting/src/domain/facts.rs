//! Facts derived from a conversation's times (RPT-2) and the masking of
//! customer data before it enters the read model (CNV-9, TEN-8).
use chrono::{DateTime, Utc};

/// The times a `ConversationEnded` event carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FactTimes {
    pub queued_at: Option<DateTime<Utc>>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// Ended while still queued: nobody ever answered.
    pub abandoned: bool,
}

/// Durations in seconds; `None` when a time they need is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Durations {
    /// Queued → assigned; for an abandoned conversation queued → ended.
    pub wait: Option<f64>,
    /// Assigned → ended (none for an abandoned conversation).
    pub handle: Option<f64>,
    /// Queued (else assigned) → first agent response.
    pub first_response: Option<f64>,
}

/// Seconds from `from` to `to`, never negative: clocks of different
/// services can disagree by a little, and a negative duration would only
/// distort averages.
pub fn seconds_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    let micros = (to - from).num_microseconds().unwrap_or(i64::MAX);
    (micros.max(0) as f64) / 1_000_000.0
}

impl FactTimes {
    /// Derives the durations statistics are computed from.
    pub fn durations(&self) -> Durations {
        let wait_end = if self.abandoned {
            self.ended_at
        } else {
            self.assigned_at
        };
        let wait = self
            .queued_at
            .zip(wait_end)
            .map(|(q, e)| seconds_between(q, e));
        let handle = if self.abandoned {
            None
        } else {
            self.assigned_at
                .zip(self.ended_at)
                .map(|(a, e)| seconds_between(a, e))
        };
        let start = self.queued_at.or(self.assigned_at);
        let first_response = start
            .zip(self.first_response_at)
            .map(|(s, r)| seconds_between(s, r));
        Durations {
            wait,
            handle,
            first_response,
        }
    }
}

/// Masks a customer's display name for the read model (CNV-9 formats).
pub use livedesk_pii::mask_name as mask_customer_name;

/// One customer identity as shown in exports: `kind:masked value`.
pub fn identity_label(kind: &str, value: &str) -> String {
    format!("{kind}:{}", mask_customer_name(value))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: i64) -> Option<DateTime<Utc>> {
        Utc.timestamp_opt(1_700_000_000 + s, 0).single()
    }

    #[test]
    fn answered_conversation_durations() {
        let times = FactTimes {
            queued_at: t(0),
            assigned_at: t(30),
            first_response_at: t(45),
            ended_at: t(330),
            abandoned: false,
        };
        assert_eq!(
            times.durations(),
            Durations {
                wait: Some(30.0),
                handle: Some(300.0),
                first_response: Some(45.0)
            }
        );
    }

    #[test]
    fn abandoned_conversation_waits_until_its_end_and_has_no_handle_time() {
        let times = FactTimes {
            queued_at: t(0),
            assigned_at: None,
            first_response_at: None,
            ended_at: t(90),
            abandoned: true,
        };
        assert_eq!(
            times.durations(),
            Durations {
                wait: Some(90.0),
                handle: None,
                first_response: None
            }
        );
    }

    #[test]
    fn skewed_clocks_never_give_negative_durations() {
        let times = FactTimes {
            queued_at: t(10),
            assigned_at: t(5),
            first_response_at: None,
            ended_at: t(4),
            abandoned: false,
        };
        let d = times.durations();
        assert_eq!(d.wait, Some(0.0));
        assert_eq!(d.handle, Some(0.0));
    }

    #[test]
    fn customer_data_is_masked() {
        assert_eq!(mask_customer_name("+447966197542"), "*********7542");
        assert!(!mask_customer_name("melissa@gmail.com").contains("melissa"));
        assert_eq!(mask_customer_name("Melissa"), "Melissa");
        assert!(identity_label("email", "melissa@gmail.com").starts_with("email:m"));
    }
}
