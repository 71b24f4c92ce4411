//! Emails to deliver (NTF-2): addresses and subjects that cannot inject
//! headers, and the delivery status machine with retries and backoff.
use std::time::Duration;

use chrono::{DateTime, Utc};
use livedesk_platform::EmailAddress;
use livedesk_platform::errors::FieldViolation;

/// Longest subject accepted (well under the 998-octet line limit).
const MAX_SUBJECT: usize = 255;
/// Most recipients of one email.
const MAX_RECIPIENTS: usize = 50;

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
            // The one validator of the platform: its reasons never echo
            // the address (TEN-8).
            match EmailAddress::parse_field(&format!("to[{i}]"), raw) {
                Ok(a) => addresses.push(a),
                Err(v) => violations.push(v),
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

/// Delivery status. Stored as text (`email_deliveries.status`, checked by
/// a constraint); sent with the numbers of `DeliveryStatus` in the proto.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending = 1,
    Sent = 2,
    Retrying = 3,
    Failed = 4,
    /// The recipient is a blocked customer (NTF-3): never sent.
    Suppressed = 5,
}

// The stored text: the values of the table's CHECK constraint.
livedesk_platform::stored_enum!(Status {
    Pending => "pending",
    Sent => "sent",
    Retrying => "retrying",
    Failed => "failed",
    Suppressed => "suppressed",
});

impl Status {
    /// The wire number (`DeliveryStatus`).
    pub fn as_i32(self) -> i32 {
        self as i32
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
    fn a_refused_recipient_is_named_by_position_never_by_address() {
        let err =
            OutgoingEmail::parse(&["secret person@x.example".into()], "s", "t", "").unwrap_err();
        assert_eq!(err[0].field, "to[0]");
        assert!(
            !err[0].description.contains("secret"),
            "{}",
            err[0].description
        );
    }

    /// The state after `outcome` from `status` with `attempts` made, at
    /// most 3 attempts in all.
    fn next(status: Status, attempts: u32, outcome: Attempt, now: DateTime<Utc>) -> Transition {
        DeliveryState { status, attempts }
            .after(outcome, 3, now)
            .unwrap()
    }

    fn transient() -> Attempt {
        Attempt::Failed {
            error: "timeout".into(),
            permanent: false,
        }
    }

    // spec: NTF-2
    #[test]
    fn failures_retry_with_backoff_then_fail() {
        let now = Utc::now();
        let t = next(Status::Pending, 0, transient(), now);
        assert_eq!((t.status, t.attempts), (Status::Retrying, 1));
        assert_eq!(t.next_attempt_at, Some(now + chrono::Duration::seconds(30)));
        let t = next(t.status, t.attempts, transient(), now);
        assert_eq!(t.next_attempt_at, Some(now + chrono::Duration::seconds(60)));
        let t = next(t.status, t.attempts, transient(), now);
        assert_eq!((t.status, t.next_attempt_at), (Status::Failed, None));
        let sent = next(Status::Retrying, 1, Attempt::Sent, now);
        assert_eq!(sent.status, Status::Sent);
        let permanent = Attempt::Failed {
            error: "550".into(),
            permanent: true,
        };
        assert_eq!(
            next(Status::Pending, 0, permanent, now).status,
            Status::Failed
        );
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

    #[test]
    fn stored_statuses_read_back_and_unknown_ones_are_refused() {
        use livedesk_platform::labels::{StoredEnum, label, parse_label};
        for s in Status::ALL {
            assert_eq!(parse_label::<Status>("c", label(*s)), Ok(*s));
        }
        // The wire numbers are those of the proto.
        use livedesk_proto::notifications::v1::DeliveryStatus as Wire;
        assert_eq!(Status::Pending.as_i32(), Wire::Pending as i32);
        assert_eq!(Status::Sent.as_i32(), Wire::Sent as i32);
        assert_eq!(Status::Retrying.as_i32(), Wire::Retrying as i32);
        assert_eq!(Status::Failed.as_i32(), Wire::Failed as i32);
        assert_eq!(Status::Suppressed.as_i32(), Wire::Suppressed as i32);
        for unknown in ["", "1", "PENDING", "queued"] {
            assert!(parse_label::<Status>("c", unknown).is_err(), "{unknown:?}");
        }
    }

    /// Every address the platform's validator accepts is one lettre (the
    /// SMTP path, `Mailer::compose`) accepts too: a recipient recorded
    /// PENDING never fails at send time for its shape.
    fn relay_accepts(raw: &str) -> Result<(), TestCaseError> {
        if let Ok(a) = EmailAddress::parse(raw) {
            prop_assert!(
                a.as_str().parse::<lettre::Address>().is_ok(),
                "the platform accepts {:?}, lettre refuses it",
                a.as_str()
            );
        }
        Ok(())
    }

    // spec: NTF-2
    #[test]
    fn addresses_the_platform_accepts_the_relay_path_accepts() {
        let samples = [
            "ana@shop.example",
            "Melissa.Ng+shop@Mail.Example.COM",
            "o'brien@xn--bcher-kva.example",
            "josé@bücher.example",
            "a!#$%&'*+-/=?^_`{|}~@b.example",
            "x@a-b.c-d.example",
        ];
        for raw in samples {
            assert!(EmailAddress::parse(raw).is_ok(), "{raw:?} refused");
            relay_accepts(raw).unwrap();
        }
        let long_label = format!("a@{}.example", "b".repeat(63));
        relay_accepts(&long_label).unwrap();
        let longest = format!("{}@{}.example", "a".repeat(64), "b".repeat(63));
        relay_accepts(&longest).unwrap();
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

        // spec: NTF-2
        #[test]
        fn the_platform_and_the_relay_path_agree_on_address_shaped_text(
            raw in "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~.é-]{1,70}@[a-zA-Z0-9ü.-]{1,70}"
        ) {
            relay_accepts(&raw)?;
        }

        // spec: NTF-2
        #[test]
        fn the_platform_and_the_relay_path_agree_on_any_text(raw in "\\PC{0,30}@\\PC{0,30}") {
            relay_accepts(&raw)?;
        }
    }
}
