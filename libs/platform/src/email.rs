//! Email addresses, parsed once by one rule for every service: the
//! conversations service's contacts, transcripts and ingested mail, the
//! notifications service's recipients, the scheduling service's reply-to
//! settings and the blocking identities all accept and refuse the same
//! addresses, so an address one service accepts is never refused by the
//! next one on its way to the SMTP relay.
use crate::errors::FieldViolation;

/// Longest address (RFC 5321's path limit, less its angle brackets).
pub const MAX_ADDRESS: usize = 254;
/// Longest label of a domain name, in octets (RFC 1035).
const MAX_LABEL: usize = 63;
/// Longest local part, in octets (RFC 5321 4.5.3.1.1): relays, and
/// lettre on the notifications service's way to one, refuse longer ones.
const MAX_LOCAL: usize = 64;

/// A valid email address in canonical form (trimmed, lowercased), of the
/// plain `local@domain` shape every mail system accepts:
///
/// - the local part is a dot-atom (RFC 5322: letters, digits and
///   ``!#$%&'*+-/=?^_`{|}~``, dots only between them); quoted local parts
///   are refused, so nothing that could close a header or add a recipient
///   (CR, LF, `<`, `>`, `,`, `;`, `"`, spaces) is ever inside;
/// - the domain has at least two labels of letters, digits and inner
///   hyphens, each 1 to 63 characters (internationalized labels are
///   letters too);
/// - at most 254 characters in all.
///
/// Addresses are lowercased: mail systems in use treat local parts
/// case-insensitively, and a block or a contact must match whatever case a
/// customer types.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);

/// Why a text is not an email address. The reason never echoes the text
/// (addresses are personal data and must not reach logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("is empty")]
    Empty,
    #[error("is longer than {MAX_ADDRESS} characters")]
    TooLong,
    #[error("contains a line break, space or separator")]
    Forbidden,
    #[error("is not an address of the form name@domain")]
    Shape,
}

impl EmailAddress {
    /// Parses `raw` (surrounding spaces are ignored; a control character
    /// anywhere, even at an end, is an injection attempt and refused).
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        if raw.chars().any(char::is_control) {
            return Err(EmailError::Forbidden);
        }
        // Lowercased first: every limit applies to the form that is stored
        // and sent (a few letters change their length in UTF-8 when
        // lowercased).
        let v = raw.trim().to_lowercase();
        let v = v.as_str();
        if v.is_empty() {
            return Err(EmailError::Empty);
        }
        if v.len() > MAX_ADDRESS {
            return Err(EmailError::TooLong);
        }
        if v.chars()
            .any(|c| c.is_whitespace() || "<>,;:\"()[]\\".contains(c))
        {
            return Err(EmailError::Forbidden);
        }
        let (local, domain) = v.split_once('@').ok_or(EmailError::Shape)?;
        if !is_dot_atom(local) || !is_domain(domain) {
            return Err(EmailError::Shape);
        }
        Ok(Self(v.to_owned()))
    }

    /// Parses `raw`, naming the request `field` on failure.
    pub fn parse_field(field: &str, raw: &str) -> Result<Self, FieldViolation> {
        Self::parse(raw)
            .map_err(|e| FieldViolation::new(field, format!("not a valid email address: {e}")))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address, owned.
    pub fn into_string(self) -> String {
        self.0
    }

    /// The domain part.
    pub fn domain(&self) -> &str {
        self.0.split_once('@').map_or("", |(_, d)| d)
    }
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for EmailAddress {
    type Err = EmailError;
    fn from_str(s: &str) -> Result<Self, EmailError> {
        Self::parse(s)
    }
}

fn is_atext(c: char) -> bool {
    c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
}

fn is_dot_atom(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_LOCAL
        && s.split('.')
            .all(|atom| !atom.is_empty() && atom.chars().all(is_atext))
}

fn is_domain(s: &str) -> bool {
    let labels: Vec<&str> = s.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= MAX_LABEL
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_lowercased() {
        let a = EmailAddress::parse("  Melissa.Ng+shop@Mail.Example.COM ").unwrap();
        assert_eq!(a.as_str(), "melissa.ng+shop@mail.example.com");
        assert_eq!(a.domain(), "mail.example.com");
        assert!(EmailAddress::parse("o'brien@xn--bcher-kva.example").is_ok());
        assert!(EmailAddress::parse("josé@bücher.example").is_ok());
    }

    #[test]
    fn header_injection_and_non_addresses_are_refused() {
        for bad in [
            "",
            "   ",
            "a@b.example\r\nBcc: x@y.example",
            "a@b.example\n",
            "a@b.example, c@d.example",
            "a@b.example;c@d.example",
            "<a@b.example>",
            "\"quoted\"@b.example",
            "a b@c.example",
            "no-at.example",
            "a@b@c.example",
            "@b.example",
            "a@",
            "a@localhost",
            "a@.example",
            "a@b.example.",
            "a@b..example",
            "a@-b.example",
            "a@b-.example",
            ".a@b.example",
            "a.@b.example",
            "a..b@c.example",
            "a(comment)@b.example",
            "a@[127.0.0.1]",
            "a@b_c.example",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} was accepted");
        }
        let long = format!("{}@{}.example.com", "a".repeat(60), "b".repeat(200));
        assert_eq!(EmailAddress::parse(&long), Err(EmailError::TooLong));
        // Octets, not characters: relays count octets.
        assert!(EmailAddress::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
        assert!(EmailAddress::parse(&format!("{}@example.com", "é".repeat(33))).is_err());
        assert!(EmailAddress::parse(&format!("a@{}.example", "ü".repeat(32))).is_err());
        assert!(EmailAddress::parse(&format!("{}@example.com", "a".repeat(64))).is_ok());
    }

    #[test]
    fn a_field_violation_names_the_field_and_not_the_address() {
        let v = EmailAddress::parse_field("contact.email", "secret person@x").unwrap_err();
        assert_eq!(v.field, "contact.email");
        assert!(!v.description.contains("secret"), "{}", v.description);
    }
}
