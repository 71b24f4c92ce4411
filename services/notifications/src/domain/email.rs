//! Emails to deliver (NTF-2): addresses and subjects that cannot inject
//! headers, and the delivery status machine with retries and backoff.
use std::time::Duration;

use chrono::{DateTime, Utc};
use livedesk_platform::errors::FieldViolation;

/// Longest address accepted (RFC 5321 path limit).
const MAX_ADDRESS: usize = 254;
/// Longest subject accepted (well under the 998-octet line limit).
const MAX_SUBJECT: usize = 255;
/// Most recipients of one email.
const MAX_RECIPIENTS: usize = 50;

/// A recipient address: one `local@domain`, no whitespace, no control
/// characters (CR/LF would start a new header), nothing that could close
/// or add an address (`<>,;"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Parses one address; the reason is safe to show (it never echoes the address).
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let a = raw.trim();
        if a.is_empty() {
            return Err("is empty");
        }
        if a.len() > MAX_ADDRESS {
            return Err("is too long");
        }
        if a.chars()
            .any(|c| c.is_control() || c.is_whitespace() || "<>,;\"()[]\\".contains(c))
        {
            return Err("contains a forbidden character (CR/LF, space or separator)");
        }
        let Some((local, domain)) = a.rsplit_once('@') else {
            return Err("has no @");
        };
        if local.is_empty()
            || local.contains('@')
            || domain.is_empty()
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err("is not an address of the form name@domain");
        }
        Ok(Self(a.to_owned()))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A subject line: one line, no control characters, at most 255 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject(String);

impl Subject {
    /// Parses a subject; CR/LF (header injection) and other control characters are refused.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("is empty");
        }
        if s.chars().any(char::is_control) {
            return Err("contains a control character (CR/LF)");
        }
        if s.chars().count() > MAX_SUBJECT {
            return Err("is longer than 255 characters");
        }
        Ok(Self(s.to_owned()))
    }

    /// The subject.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email ready to queue: valid recipients and subject, a plain-text
/// and/or HTML body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub to: Vec<EmailAddress>,
    pub subject: Subject,
    pub text_body: String,
    pub html_body: String,
}

impl OutgoingEmail {
    /// Validates every field, reporting all violations at once.
    pub fn parse(
        to: &[String],
        subject: &str,
        text_body: &str,
        html_body: &str,
    ) -> Result<Self, Vec<FieldViolation>> {
        let mut violations = Vec::new();
        if to.is_empty() {
            violations.push(FieldViolation::new(
                "to",
                "at least one recipient is required",
            ));
        }
        if to.len() > MAX_RECIPIENTS {
            violations.push(FieldViolation::new("to", "at most 50 recipients"));
        }
        let mut addresses = Vec::with_capacity(to.len());
        for (i, raw) in to.iter().enumerate() {
            match EmailAddress::parse(raw) {
                Ok(a) => addresses.push(a),
                Err(why) => violations.push(FieldViolation::new(format!("to[{i}]"), why)),
            }
        }
        let subject = Subject::parse(subject)
            .map_err(|why| violations.push(FieldViolation::new("subject", why)))
            .ok();
        if text_body.trim().is_empty() && html_body.trim().is_empty() {
            violations.push(FieldViolation::new(
                "text_body",
                "a plain-text or HTML body is required",
            ));
        }
        match subject {
            Some(subject) if violations.is_empty() => Ok(Self {
                to: addresses,
                subject,
                text_body: text_body.to_owned(),
                html_body: html_body.to_owned(),
            }),
            _ => Err(violations),
        }
    }
}

/// Delivery status; the numbers are those of `DeliveryStatus` in the proto.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending = 1,
    Sent = 2,
    Retrying = 3,
    Failed = 4,
    /// The recipient is a blocked customer (NTF-3): never sent.
    Suppressed = 5,
}

impl Status {
    /// The stored / wire number.
    pub fn as_i32(self) -> i32 {
        self as i32
    }

    /// Reads a stored number.
    pub fn from_i32(v: i32) -> Option<Self> {
        Some(match v {
            1 => Self::Pending,
            2 => Self::Sent,
            3 => Self::Retrying,
            4 => Self::Failed,
            5 => Self::Suppressed,
            _ => return None,
        })
    }

    /// Whether no further attempt will be made.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Sent | Self::Failed | Self::Suppressed)
    }
}

/// The outcome of one send attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Sent,
    /// `permanent`: the server refused for good (unknown mailbox, 5xx).
    Failed {
        error: String,
        permanent: bool,
    },
}

/// Where a delivery stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryState {
    pub status: Status,
    pub attempts: u32,
}

/// The state after an attempt, and when to try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub status: Status,
    pub attempts: u32,
    pub last_error: String,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// Delay before retry number `attempt` (1 = after the first failure):
/// 30 s doubling, capped at one hour.
pub fn backoff(attempt: u32) -> Duration {
    let secs = 30u64.saturating_mul(1u64 << attempt.saturating_sub(1).min(20));
    Duration::from_secs(secs.min(3600))
}

impl DeliveryState {
    /// Applies an attempt's outcome. `None` when the delivery is already
    /// terminal (a late worker must not resurrect it).
    pub fn after(
        &self,
        outcome: Attempt,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> Option<Transition> {
        if self.status.is_terminal() {
            return None;
        }
        let attempts = self.attempts.saturating_add(1);
        Some(match outcome {
            Attempt::Sent => Transition {
                status: Status::Sent,
                attempts,
                last_error: String::new(),
                next_attempt_at: None,
            },
            Attempt::Failed { error, permanent } if permanent || attempts >= max_attempts => {
                Transition {
                    status: Status::Failed,
                    attempts,
                    last_error: error,
                    next_attempt_at: None,
                }
            }
            Attempt::Failed { error, .. } => {
                let delay = chrono::Duration::from_std(backoff(attempts))
                    .unwrap_or_else(|_| chrono::Duration::hours(1));
                Transition {
                    status: Status::Retrying,
                    attempts,
                    last_error: error,
                    next_attempt_at: Some(now + delay),
                }
            }
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // spec: NTF-2
    #[test]
    fn header_injection_is_refused() {
        assert!(EmailAddress::parse("a@b.example\r\nBcc: x@y.example").is_err());
        assert!(EmailAddress::parse("a@b.example, c@d.example").is_err());
        assert!(EmailAddress::parse("<a@b.example>").is_err());
        assert!(Subject::parse("Hello\r\nBcc: x@y.example").is_err());
        assert!(Subject::parse("Hello\nthere").is_err());
        assert_eq!(
            EmailAddress::parse(" ana@shop.example ").unwrap().as_str(),
            "ana@shop.example"
        );
        assert_eq!(
            Subject::parse("Your transcript").unwrap().as_str(),
            "Your transcript"
        );
    }

    // spec: NTF-2
    #[test]
    fn every_violation_is_reported() {
        let err = OutgoingEmail::parse(
            &["ok@x.example".into(), "bad\n@x.example".into()],
            "a\rb",
            "",
            "",
        )
        .unwrap_err();
        let fields: Vec<_> = err.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["to[1]", "subject", "text_body"]);
        assert!(OutgoingEmail::parse(&[], "s", "t", "").is_err());
        assert!(OutgoingEmail::parse(&["ok@x.example".into()], "s", "", "<p>t</p>").is_ok());
    }

    // spec: NTF-2
    #[test]
    fn failures_retry_with_backoff_then_fail() {
        let now = Utc::now();
        let mut s = DeliveryState {
            status: Status::Pending,
            attempts: 0,
        };
        let t = s
            .after(
                Attempt::Failed {
                    error: "timeout".into(),
                    permanent: false,
                },
                3,
                now,
            )
            .unwrap();
        assert_eq!((t.status, t.attempts), (Status::Retrying, 1));
        assert_eq!(t.next_attempt_at, Some(now + chrono::Duration::seconds(30)));
        s = DeliveryState {
            status: t.status,
            attempts: t.attempts,
        };
        let t = s
            .after(
                Attempt::Failed {
                    error: "timeout".into(),
                    permanent: false,
                },
                3,
                now,
            )
            .unwrap();
        assert_eq!(t.next_attempt_at, Some(now + chrono::Duration::seconds(60)));
        s = DeliveryState {
            status: t.status,
            attempts: t.attempts,
        };
        let t = s
            .after(
                Attempt::Failed {
                    error: "timeout".into(),
                    permanent: false,
                },
                3,
                now,
            )
            .unwrap();
        assert_eq!((t.status, t.next_attempt_at), (Status::Failed, None));
        let sent = DeliveryState {
            status: Status::Retrying,
            attempts: 1,
        }
        .after(Attempt::Sent, 3, now)
        .unwrap();
        assert_eq!(sent.status, Status::Sent);
        let permanent = DeliveryState {
            status: Status::Pending,
            attempts: 0,
        }
        .after(
            Attempt::Failed {
                error: "550".into(),
                permanent: true,
            },
            3,
            now,
        )
        .unwrap();
        assert_eq!(permanent.status, Status::Failed);
    }

    // spec: NTF-3
    #[test]
    fn terminal_deliveries_never_change() {
        for status in [Status::Sent, Status::Failed, Status::Suppressed] {
            assert!(
                DeliveryState {
                    status,
                    attempts: 1
                }
                .after(Attempt::Sent, 5, Utc::now())
                .is_none()
            );
        }
    }

    proptest! {
        // spec: NTF-2
        #[test]
        fn backoff_grows_and_is_bounded(a in 0u32..1000) {
            prop_assert!(backoff(a) <= backoff(a + 1));
            prop_assert!(backoff(a) <= Duration::from_secs(3600));
            prop_assert!(backoff(a) >= Duration::from_secs(30));
        }

        // spec: NTF-2
        #[test]
        fn parsed_addresses_and_subjects_hold_no_line_breaks(raw in "\\PC{0,40}[\r\n]?\\PC{0,40}") {
            if let Ok(a) = EmailAddress::parse(&raw) {
                prop_assert!(!a.as_str().contains(['\r', '\n']));
            }
            if let Ok(s) = Subject::parse(&raw) {
                prop_assert!(!s.as_str().contains(['\r', '\n']));
            }
        }
    }
}
