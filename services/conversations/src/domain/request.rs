//! Requests and contacts (CNV-1, CNV-7): priorities, statuses, the
//! assignee's initials and safe search patterns.
use livedesk_platform::errors::FieldViolation;

/// Priority of a request (CNV-1); unspecified means LOW.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    Low = 1,
    Medium = 2,
    High = 3,
}

impl Priority {
    /// Parses the protobuf number; `None` for UNSPECIFIED (caller's default).
    pub fn parse(field: &str, n: i32) -> Result<Option<Self>, FieldViolation> {
        match n {
            0 => Ok(None),
            1 => Ok(Some(Priority::Low)),
            2 => Ok(Some(Priority::Medium)),
            3 => Ok(Some(Priority::High)),
            _ => Err(FieldViolation::new(field, "unknown priority")),
        }
    }
}

/// Parses a request status; `None` for UNSPECIFIED.
pub fn parse_request_status(field: &str, n: i32) -> Result<Option<i32>, FieldViolation> {
    match n {
        0 => Ok(None),
        1..=3 => Ok(Some(n)),
        _ => Err(FieldViolation::new(field, "unknown request status")),
    }
}

/// Initials shown on a request (CNV-7): given ones are checked (1 to 4
/// letters or digits), otherwise derived from a display name.
pub fn parse_initials(field: &str, raw: &str) -> Result<Option<String>, FieldViolation> {
    let v = raw.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if v.chars().count() > 4 || !v.chars().all(char::is_alphanumeric) {
        return Err(FieldViolation::new(field, "1 to 4 letters or digits"));
    }
    Ok(Some(v.to_uppercase()))
}

/// Initials of a display name: the first letter of its first two words
/// (`Alice Martin` → `AM`, `jean-paul.dupont` → `JP`), or its first two
/// letters when it is one word.
pub fn initials(name: &str) -> String {
    let words: Vec<&str> = name
        .split(|c: char| c.is_whitespace() || matches!(c, '.' | '_' | '-' | '@'))
        .filter(|w| w.chars().next().is_some_and(char::is_alphanumeric))
        .collect();
    let out: String = match words.as_slice() {
        [] => String::new(),
        [one] => one
            .chars()
            .filter(|c| c.is_alphanumeric())
            .take(2)
            .collect(),
        [a, b, ..] => a.chars().take(1).chain(b.chars().take(1)).collect(),
    };
    out.to_uppercase()
}

/// A contact search (CNV-7): a LIKE pattern matching `query` literally
/// (`%`, `_` and `\` escaped), and the query's digits when it looks like
/// part of a phone number (three digits or more).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactQuery {
    pub pattern: String,
    pub digits: Option<String>,
}

impl ContactQuery {
    /// Parses a 1 to 100 character query.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldViolation> {
        let q = raw.trim();
        if q.is_empty() || q.chars().count() > 100 {
            return Err(FieldViolation::new(field, "1 to 100 characters"));
        }
        let mut pattern = String::from("%");
        for c in q.chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        let digits: String = q.chars().filter(char::is_ascii_digit).collect();
        let phone_like = q
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'));
        Ok(Self {
            pattern,
            digits: (phone_like && digits.len() >= 3).then_some(digits),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // spec: CNV-7
    #[test]
    fn initials_are_derived_or_checked() {
        assert_eq!(initials("Alice Martin"), "AM");
        assert_eq!(initials("jean-paul.dupont"), "JP");
        assert_eq!(initials("bob"), "BO");
        assert_eq!(initials(""), "");
        assert_eq!(parse_initials("i", " am ").unwrap(), Some("AM".into()));
        assert!(parse_initials("i", "A.M.").is_err());
        assert!(parse_initials("i", "ABCDE").is_err());
        assert_eq!(parse_initials("i", "").unwrap(), None);
    }

    // spec: CNV-7
    #[test]
    fn search_patterns_escape_like_wildcards() {
        let q = ContactQuery::parse("query", "50%_off\\").unwrap();
        assert_eq!(q.pattern, "%50\\%\\_off\\\\%");
        assert_eq!(q.digits, None);
        let p = ContactQuery::parse("query", "+1 (123) 456").unwrap();
        assert_eq!(p.digits.as_deref(), Some("1123456"));
        assert!(ContactQuery::parse("query", "  ").is_err());
        assert_eq!(Priority::parse("p", 0).unwrap(), None);
        assert!(Priority::parse("p", 7).is_err());
    }

    proptest! {
        // spec: CNV-7
        #[test]
        fn a_pattern_has_no_unescaped_wildcard_inside(s in "\\PC{1,40}") {
            if let Ok(q) = ContactQuery::parse("query", &s) {
                let inner = &q.pattern[1..q.pattern.len() - 1];
                let mut escaped = false;
                for c in inner.chars() {
                    if escaped { escaped = false; continue; }
                    if c == '\\' { escaped = true; continue; }
                    prop_assert!(c != '%' && c != '_');
                }
                prop_assert!(!escaped);
            }
        }
    }
}
