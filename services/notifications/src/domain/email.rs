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

/// How failed attempts are retried: at most `max_attempts` attempts in
/// all, waiting `base` doubling per failure, capped at `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base: Duration,
    pub max: Duration,
}

impl Default for RetryPolicy {
    /// 8 attempts, 30 s doubling, capped at one hour.
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base: Duration::from_secs(30),
            max: Duration::from_secs(3600),
        }
    }
}

impl RetryPolicy {
    /// Delay before retry number `attempt` (1 = after the first failure),
    /// before jitter: `base` doubling, capped at `max`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(20);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// The backoff with "equal jitter": between half and all of it, so
    /// deliveries that failed together (a relay outage) do not all come
    /// back in the same instant. `jitter` is a draw in `[0, 1)`.
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        let full = self.backoff(attempt);
        let half = full / 2;
        half + half.mul_f64(jitter.clamp(0.0, 1.0))
    }
}

/// Delay before retry number `attempt` under the default policy.
pub fn backoff(attempt: u32) -> Duration {
    RetryPolicy::default().backoff(attempt)
}

/// The `Message-ID` of a delivery: derived from its id only, so every
/// attempt (and a resend after a crashed worker) carries the same one and
/// a receiver can drop the duplicate.
pub fn message_id(delivery: uuid::Uuid, domain: &str) -> String {
    format!("<{delivery}@{domain}>")
}

/// An HTML body built from plain text: every character that means
/// something in HTML is escaped (customer text never becomes markup),
/// line breaks become `<br>`.
pub fn html_from_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    out.push_str("<!DOCTYPE html><html><body><div style=\"font-family:sans-serif\">");
    for (i, line) in text.replace("\r\n", "\n").split('\n').enumerate() {
        if i > 0 {
            out.push_str("<br>\n");
        }
        for c in line.chars() {
            match c {
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '&' => out.push_str("&amp;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&#39;"),
                c if c.is_control() && c != '\t' => {}
                c => out.push(c),
            }
        }
    }
    out.push_str("</div></body></html>");
    out
}

/// A relay's reply made safe to store and show: anything that looks like
/// an address is replaced (servers often echo the recipient, TEN-8), line
/// breaks folded, and the length bounded.
pub fn safe_error(raw: &str) -> String {
    let words: Vec<&str> = raw
        .split_whitespace()
        .map(|w| if w.contains('@') { "[address]" } else { w })
        .collect();
    let joined = words.join(" ");
    match joined.char_indices().nth(500) {
        Some((cut, _)) => format!("{}…", &joined[..cut]),
        None => joined,
    }
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
        let policy = RetryPolicy {
            max_attempts,
            ..RetryPolicy::default()
        };
        self.after_with(outcome, &policy, 1.0, now)
    }

    /// Applies an attempt's outcome under `policy`, with a jitter draw in
    /// `[0, 1)` for the retry delay. `None` when already terminal.
    pub fn after_with(
        &self,
        outcome: Attempt,
        policy: &RetryPolicy,
        jitter: f64,
        now: DateTime<Utc>,
    ) -> Option<Transition> {
        let max_attempts = policy.max_attempts;
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
                let delay = chrono::Duration::from_std(policy.delay(attempts, jitter))
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
