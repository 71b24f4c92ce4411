//! Per-org scheduling settings: the texts customers see out of hours and
//! before closing, and where form submissions are emailed.
use livedesk_platform::EmailAddress;
use livedesk_platform::errors::FieldViolation;

/// Shown on messaging channels when the queue is closed (SCH-3).
pub const DEFAULT_OUT_OF_HOURS: &str =
    "Thanks for your message. We are closed right now; we will reply as soon as we are open again.";
/// Sent to customers in live conversations before closing (SCH-4).
pub const DEFAULT_CLOSING_SOON: &str = "We are closing soon. If your question is not answered before then, leave us a message and we will get back to you.";
const MAX_TEXT: usize = 1000;

/// Validated settings; empty texts mean "the default".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    pub out_of_hours_message: String,
    pub closing_soon_message: String,
    pub notify_email: String,
}

impl Settings {
    /// Validates every field at once.
    pub fn parse(
        out_of_hours: &str,
        closing_soon: &str,
        notify_email: &str,
    ) -> Result<Self, Vec<FieldViolation>> {
        let mut v = Vec::new();
        for (field, text) in [
            ("out_of_hours_message", out_of_hours),
            ("closing_soon_message", closing_soon),
        ] {
            if text.trim().chars().count() > MAX_TEXT {
                v.push(FieldViolation::new(
                    field,
                    format!("at most {MAX_TEXT} characters"),
                ));
            }
        }
        // The one email rule of every service (canonical: lowercased).
        let email = match notify_email.trim() {
            "" => String::new(),
            raw => match EmailAddress::parse(raw) {
                Ok(e) => e.into_string(),
                Err(_) => {
                    v.push(FieldViolation::new("notify_email", "not an email address"));
                    String::new()
                }
            },
        };
        if !v.is_empty() {
            return Err(v);
        }
        Ok(Self {
            out_of_hours_message: out_of_hours.trim().to_owned(),
            closing_soon_message: closing_soon.trim().to_owned(),
            notify_email: email,
        })
    }

    /// The out-of-hours text in effect.
    pub fn out_of_hours(&self) -> &str {
        if self.out_of_hours_message.is_empty() {
            DEFAULT_OUT_OF_HOURS
        } else {
            &self.out_of_hours_message
        }
    }

    /// The closing-soon text in effect.
    pub fn closing_soon(&self) -> &str {
        if self.closing_soon_message.is_empty() {
            DEFAULT_CLOSING_SOON
        } else {
            &self.closing_soon_message
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // spec: TEN-4
    #[test]
    fn settings_are_validated_and_default() {
        assert!(Settings::parse("", "", "support@example.com").is_ok());
        let err = Settings::parse(&"x".repeat(1001), "", "not an email")
            .err()
            .unwrap_or_default();
        assert_eq!(err.len(), 2);
        assert_eq!(Settings::default().out_of_hours(), DEFAULT_OUT_OF_HOURS);
        for bad in ["a@b@c.d", "a@b", "a b@c.d"] {
            assert!(Settings::parse("", "", bad).is_err(), "{bad}");
        }
        assert_eq!(
            Settings::parse("", "", " A.B@C.de ")
                .map(|s| s.notify_email)
                .ok()
                .as_deref(),
            Some("a.b@c.de")
        );
    }
}
