//! Wrap-up (RTG-9): the org's list of codes and the auto-wrap-up delay.
use livedesk_platform::errors::FieldViolation;

/// Codes every org starts with (TEN-1), as (code, label).
pub const DEFAULT_WRAP_UP_CODES: [(&str, &str); 4] = [
    ("resolved", "Resolved"),
    ("follow_up", "Needs follow-up"),
    ("escalated", "Escalated"),
    ("no_answer", "Customer did not answer"),
];

/// A wrap-up code as submitted: 1 to 50 characters of `[a-z0-9_-]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrapUpCodeText(String);

impl WrapUpCodeText {
    /// Trims, lowercases and checks the characters.
    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldViolation> {
        let c = raw.trim().to_lowercase();
        let ok_chars = c
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-');
        if c.is_empty() || c.len() > 50 || !ok_chars {
            return Err(FieldViolation::new(
                field,
                "1 to 50 characters of a-z, 0-9, '_' or '-'",
            ));
        }
        Ok(Self(c))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A validated list of codes with labels (1 to 50 entries, unique codes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrapUpCodes(pub Vec<(WrapUpCodeText, String)>);

impl WrapUpCodes {
    /// Validates a whole list.
    pub fn parse(raw: &[(String, String)]) -> Result<Self, Vec<FieldViolation>> {
        let mut v = Vec::new();
        if raw.is_empty() || raw.len() > 50 {
            v.push(FieldViolation::new("codes", "1 to 50 codes"));
        }
        let mut out: Vec<(WrapUpCodeText, String)> = Vec::new();
        for (i, (code, label)) in raw.iter().enumerate() {
            match WrapUpCodeText::parse(code, &format!("codes[{i}].code")) {
                Ok(c) if out.iter().any(|(o, _)| *o == c) => v.push(FieldViolation::new(
                    format!("codes[{i}].code"),
                    "duplicate code",
                )),
                Ok(c) => {
                    let label = label.trim();
                    if label.chars().count() > 100 {
                        v.push(FieldViolation::new(
                            format!("codes[{i}].label"),
                            "at most 100 characters",
                        ));
                    }
                    let label = if label.is_empty() {
                        c.as_str().to_owned()
                    } else {
                        label.to_owned()
                    };
                    out.push((c, label));
                }
                Err(e) => v.push(e),
            }
        }
        if v.is_empty() { Ok(Self(out)) } else { Err(v) }
    }
}

/// Seconds after which an unsubmitted wrap-up is closed automatically:
/// 10 s to 24 h, default 300 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoWrapUp(u32);

impl AutoWrapUp {
    /// The default.
    pub const DEFAULT: AutoWrapUp = AutoWrapUp(300);

    /// Checks the range (0 = default).
    pub fn parse(v: u32) -> Result<Self, FieldViolation> {
        match v {
            0 => Ok(Self::DEFAULT),
            10..=86_400 => Ok(Self(v)),
            _ => Err(FieldViolation::new(
                "auto_wrap_up_seconds",
                "must be 10 to 86400 seconds",
            )),
        }
    }

    /// Seconds.
    pub fn seconds(self) -> u32 {
        self.0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    // spec: RTG-9
    #[test]
    fn codes_are_validated_and_unique() {
        let ok = WrapUpCodes::parse(&[("Sold".into(), "".into()), ("lost".into(), "Lost".into())])
            .unwrap();
        assert_eq!(ok.0[0].0.as_str(), "sold");
        assert_eq!(ok.0[0].1, "sold", "label defaults to the code");
        let err = WrapUpCodes::parse(&[
            ("a".into(), "".into()),
            ("A".into(), "".into()),
            ("bad code".into(), "".into()),
        ])
        .unwrap_err();
        assert_eq!(err.len(), 2);
        assert!(WrapUpCodes::parse(&[]).is_err());
        assert_eq!(AutoWrapUp::parse(0).unwrap().seconds(), 300);
        assert!(AutoWrapUp::parse(5).is_err());
    }
}
