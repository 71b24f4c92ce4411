//! Email rules (CNV-8 transcripts, CNV-14 continue-by-email): subjects
//! safe to put in headers (addresses are the platform's `EmailAddress`), RFC 5322 Message-IDs, the subject token
//! that threads replies into a request, and the transcript text.
use livedesk_platform::errors::FieldViolation;
use uuid::Uuid;

/// Most characters of a subject line.
pub const SUBJECT_MAX: usize = 200;
/// Most characters of an email body.
pub const BODY_MAX: usize = 100_000;

/// A subject line: 1 to 200 characters, no line break (header injection).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject(String);

impl Subject {
    /// Parses `raw`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldViolation> {
        let v = raw.trim();
        if v.is_empty() {
            return Err(FieldViolation::new(field, "must not be empty"));
        }
        if v.chars().count() > SUBJECT_MAX {
            return Err(FieldViolation::new(
                field,
                format!("at most {SUBJECT_MAX} characters"),
            ));
        }
        if v.chars().any(char::is_control) {
            return Err(FieldViolation::new(
                field,
                "line breaks and control characters are not allowed",
            ));
        }
        Ok(Self(v.to_owned()))
    }

    /// The subject.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The subject carrying the request's token, added once, so a reply
    /// whose headers were lost still threads (CNV-14).
    pub fn with_token(&self, request_id: Uuid) -> String {
        let token = subject_token(request_id);
        if self.0.contains(&token) {
            self.0.clone()
        } else {
            format!("{} {token}", self.0)
        }
    }
}

/// An email body: 1 to 100 000 characters.
pub fn parse_body(field: &str, raw: &str) -> Result<String, FieldViolation> {
    if raw.trim().is_empty() {
        return Err(FieldViolation::new(field, "must not be empty"));
    }
    if raw.chars().count() > BODY_MAX {
        return Err(FieldViolation::new(
            field,
            format!("at most {BODY_MAX} characters"),
        ));
    }
    Ok(raw.to_owned())
}

/// The short id of a request shown in subjects: the last 10 hex digits of
/// its UUID (the random part of a UUIDv7, unlike the leading timestamp).
pub fn short_id(request_id: Uuid) -> String {
    let s = request_id.simple().to_string();
    s[s.len() - 10..].to_owned()
}

/// `[#<short id>]`.
pub fn subject_token(request_id: Uuid) -> String {
    format!("[#{}]", short_id(request_id))
}

/// The short id named by a `[#xxxxxxxxxx]` token in a subject, if any.
pub fn token_in_subject(subject: &str) -> Option<String> {
    let mut rest = subject;
    while let Some(i) = rest.find("[#") {
        let after = &rest[i + 2..];
        if let Some(end) = after.find(']') {
            let id = after[..end].to_ascii_lowercase();
            if id.len() == 10 && id.chars().all(|c| c.is_ascii_hexdigit()) {
                return Some(id);
            }
        }
        rest = after;
    }
    None
}

/// A new RFC 5322 Message-ID (`<uuid@domain>`).
pub fn new_message_id(domain: &str) -> String {
    format!("<{}@{domain}>", Uuid::now_v7().simple())
}

/// A Message-ID as stored: trimmed, with its angle brackets; `None` when
/// empty or unsafe in a header.
pub fn normalize_message_id(raw: &str) -> Option<String> {
    let v = raw.trim().trim_start_matches('<').trim_end_matches('>');
    if v.is_empty() || v.len() > 500 || v.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return None;
    }
    Some(format!("<{v}>"))
}

/// One line of a transcript.
#[derive(Debug, Clone)]
pub struct TranscriptLine {
    /// `HH:MM` (UTC) or any short time label.
    pub at: String,
    pub author: String,
    pub text: String,
}

/// The transcript sent at close (CNV-8): every visible message, then the
/// closing note when there is one.
pub fn transcript(lines: &[TranscriptLine], note: &str) -> String {
    let mut out = String::from("Transcript of your conversation\n\n");
    for l in lines {
        out.push_str(&format!("[{}] {}: {}\n", l.at, l.author, l.text));
    }
    if !note.trim().is_empty() {
        out.push_str("\nNote: ");
        out.push_str(note.trim());
        out.push('\n');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use livedesk_platform::EmailAddress;
    use proptest::prelude::*;

    // spec: CNV-8
    #[test]
    fn addresses_with_header_injection_are_refused() {
        assert_eq!(
            EmailAddress::parse_field("to", " Melissa@Gmail.com ")
                .unwrap()
                .as_str(),
            "melissa@gmail.com"
        );
        for bad in [
            "a@b.com\r\nBcc: x@y.com",
            "a@b.com\n",
            "a b@c.com",
            "nobody",
            "a@b",
            "a@@b.com",
            "<a@b.com>",
            "a@b.com,c@d.com",
            "",
        ] {
            assert!(EmailAddress::parse_field("to", bad).is_err(), "{bad:?}");
        }
        assert!(Subject::parse("subject", "Hello\r\nBcc: x").is_err());
    }

    // spec: CNV-14
    #[test]
    fn the_subject_token_round_trips_and_is_added_once() {
        let id = Uuid::now_v7();
        let s = Subject::parse("subject", "Your order").unwrap();
        let with = s.with_token(id);
        assert_eq!(token_in_subject(&with), Some(short_id(id)));
        assert_eq!(
            Subject::parse("subject", &with).unwrap().with_token(id),
            with
        );
        assert_eq!(
            token_in_subject(&format!("Re: RE: {with}")),
            Some(short_id(id))
        );
        assert_eq!(token_in_subject("Re: [#nothex!!!!] hi"), None);
        assert_eq!(normalize_message_id(" abc@x "), Some("<abc@x>".to_string()));
        assert_eq!(normalize_message_id("a b"), None);
        assert!(new_message_id("livedesk.local").ends_with("@livedesk.local>"));
    }

    // spec: CNV-8
    #[test]
    fn the_transcript_lists_messages_then_the_note() {
        let t = transcript(
            &[TranscriptLine {
                at: "10:00".into(),
                author: "Alice".into(),
                text: "Hello".into(),
            }],
            "Refund sent",
        );
        assert!(t.contains("[10:00] Alice: Hello\n"));
        assert!(t.ends_with("Note: Refund sent\n"));
    }

    proptest! {
        // spec: CNV-8
        #[test]
        fn a_parsed_address_never_holds_a_line_break(s in "\\PC{0,40}[\r\n]?\\PC{0,10}") {
            if let Ok(a) = EmailAddress::parse_field("to", &s) {
                prop_assert!(!a.as_str().contains(['\r', '\n']));
            }
        }
    }
}
