//! Message texts, parsed at the boundary (CNV-4): the domain only ever sees
//! a text that satisfies its author's rules.
use livedesk_platform::errors::FieldViolation;

/// Most Unicode scalar values an agent message may hold (CNV-4).
pub const AGENT_TEXT_MAX: usize = 1000;
/// Most Unicode scalar values a customer message may hold.
pub const CUSTOMER_TEXT_MAX: usize = 5000;

/// Text written by an agent (or a bot): 1 to 1000 characters, line breaks
/// allowed, no `<` or `>` (reserved for template placeholders, CNV-5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentText(String);

impl AgentText {
    /// Checks the rules of CNV-4 and names `field` on failure.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldViolation> {
        if raw.trim().is_empty() {
            return Err(FieldViolation::new(field, "must not be empty"));
        }
        let count = raw.chars().count();
        if count > AGENT_TEXT_MAX {
            return Err(FieldViolation::new(
                field,
                format!("at most {AGENT_TEXT_MAX} characters, got {count}"),
            ));
        }
        if raw.contains(['<', '>']) {
            return Err(FieldViolation::new(
                field,
                "the characters < and > are not allowed in agent messages",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Text written by a customer: 1 to 5000 characters, anything else goes
/// (it is escaped where it is shown, never interpreted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerText(String);

impl CustomerText {
    /// Checks the length and names `field` on failure.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldViolation> {
        if raw.trim().is_empty() {
            return Err(FieldViolation::new(field, "must not be empty"));
        }
        let count = raw.chars().count();
        if count > CUSTOMER_TEXT_MAX {
            return Err(FieldViolation::new(
                field,
                format!("at most {CUSTOMER_TEXT_MAX} characters, got {count}"),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // spec: CNV-4
    #[test]
    fn agent_text_rules() {
        assert!(
            AgentText::parse("text", "Hello,\nhow can I help?").is_ok(),
            "line breaks allowed"
        );
        assert_eq!(AgentText::parse("text", "").unwrap_err().field, "text");
        assert!(AgentText::parse("text", "  \n ").is_err());
        assert!(
            AgentText::parse("text", "a <b> c")
                .unwrap_err()
                .description
                .contains('<')
        );
        assert!(AgentText::parse("text", "x > y").is_err());
        assert!(
            AgentText::parse("text", &"é".repeat(1000)).is_ok(),
            "counted in scalar values, not bytes"
        );
        assert!(AgentText::parse("text", &"a".repeat(1001)).is_err());
    }

    proptest! {
        // spec: CNV-4
        #[test]
        fn agent_text_accepts_exactly_the_valid_texts(s in "\\PC{0,1100}") {
            let ok = !s.trim().is_empty() && s.chars().count() <= AGENT_TEXT_MAX && !s.contains(['<', '>']);
            prop_assert_eq!(AgentText::parse("text", &s).is_ok(), ok);
        }

        #[test]
        fn customer_text_never_panics_and_bounds_length(s in "\\PC{0,200}") {
            let parsed = CustomerText::parse("text", &s);
            prop_assert_eq!(parsed.is_ok(), !s.trim().is_empty());
        }
    }
}
