//! Qualification of a conversation at its end (CNV-8, CNV-10): tags, a
//! contact reason and a closing note, checked once at the boundary.
use livedesk_platform::errors::FieldViolation;

/// Most tags on one conversation.
const MAX_TAGS: usize = 20;

/// A valid qualification: trimmed, de-duplicated tags.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Qualification {
    pub tags: Vec<String>,
    pub contact_reason: String,
    pub note: String,
}

impl Qualification {
    /// Validates every field at once.
    pub fn parse(
        tags: &[String],
        contact_reason: &str,
        note: &str,
    ) -> Result<Self, Vec<FieldViolation>> {
        let mut violations = Vec::new();
        let mut clean: Vec<String> = Vec::new();
        for t in tags {
            let t = t.trim();
            if t.is_empty() || t.chars().count() > 50 {
                violations.push(FieldViolation::new(
                    "qualification.tags",
                    "each tag has 1 to 50 characters",
                ));
                break;
            }
            if !clean.iter().any(|c| c.eq_ignore_ascii_case(t)) {
                clean.push(t.to_owned());
            }
        }
        if clean.len() > MAX_TAGS {
            violations.push(FieldViolation::new(
                "qualification.tags",
                format!("at most {MAX_TAGS} tags"),
            ));
        }
        let contact_reason = contact_reason.trim();
        if contact_reason.chars().count() > 200 {
            violations.push(FieldViolation::new(
                "qualification.contact_reason",
                "at most 200 characters",
            ));
        }
        let note = note.trim();
        if note.chars().count() > 5000 {
            violations.push(FieldViolation::new(
                "qualification.note",
                "at most 5000 characters",
            ));
        }
        if violations.is_empty() {
            Ok(Self {
                tags: clean,
                contact_reason: contact_reason.to_owned(),
                note: note.to_owned(),
            })
        } else {
            Err(violations)
        }
    }

    /// Which mandatory parts are missing under a queue's policy (CNV-16).
    pub fn missing(&self, require_tags: bool, require_reason: bool) -> Vec<FieldViolation> {
        let mut v = Vec::new();
        if require_tags && self.tags.is_empty() {
            v.push(FieldViolation::new(
                "qualification.tags",
                "this queue requires at least one tag at the end",
            ));
        }
        if require_reason && self.contact_reason.is_empty() {
            v.push(FieldViolation::new(
                "qualification.contact_reason",
                "this queue requires a contact reason at the end",
            ));
        }
        v
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_trimmed_and_deduplicated() {
        let q = Qualification::parse(
            &[" billing ".into(), "Billing".into(), "refund".into()],
            " r ",
            "",
        )
        .unwrap();
        assert_eq!(q.tags, ["billing", "refund"]);
        assert_eq!(q.contact_reason, "r");
        assert!(Qualification::parse(&["".into()], "", "").is_err());
    }

    // spec: CNV-16
    #[test]
    fn a_policy_names_what_is_missing() {
        let q = Qualification::default();
        assert_eq!(q.missing(true, true).len(), 2);
        assert!(q.missing(false, false).is_empty());
    }
}
