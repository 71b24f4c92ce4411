//! Customer identities in one canonical form, so a block recorded by one
//! service matches the identity another service sees (BLK-2, BLK-3).
use livedesk_proto::common::v1::{CustomerIdentity, IdentityKind};

use crate::errors::FieldViolation;

/// Canonical form of an identity value: emails trimmed and lowercased,
/// phone numbers reduced to `+` and digits, other ids trimmed.
pub fn normalize(kind: IdentityKind, value: &str) -> Result<String, FieldViolation> {
    let v = value.trim();
    if v.is_empty() {
        return Err(FieldViolation::new("identities.value", "must not be empty"));
    }
    if v.chars().count() > 320 {
        return Err(FieldViolation::new(
            "identities.value",
            "at most 320 characters",
        ));
    }
    match kind {
        IdentityKind::Unspecified => Err(FieldViolation::new("identities.kind", "must be set")),
        IdentityKind::Email => crate::email::EmailAddress::parse(v)
            .map(crate::email::EmailAddress::into_string)
            .map_err(|_| FieldViolation::new("identities.value", "not an email address")),
        IdentityKind::Phone | IdentityKind::Whatsapp => {
            let digits: String = v.chars().filter(char::is_ascii_digit).collect();
            if !(6..=15).contains(&digits.len()) {
                return Err(FieldViolation::new(
                    "identities.value",
                    "not a phone number",
                ));
            }
            Ok(format!("+{digits}"))
        }
        _ => Ok(v.to_owned()),
    }
}

/// Normalizes a list of identities, dropping exact duplicates.
pub fn normalize_all(
    identities: &[CustomerIdentity],
) -> Result<Vec<(IdentityKind, String)>, FieldViolation> {
    let mut out: Vec<(IdentityKind, String)> = Vec::with_capacity(identities.len());
    for id in identities {
        let kind = IdentityKind::try_from(id.kind).unwrap_or(IdentityKind::Unspecified);
        let value = normalize(kind, &id.value)?;
        if !out.iter().any(|(k, v)| *k == kind && *v == value) {
            out.push((kind, value));
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn emails_and_phones_have_one_form() {
        assert_eq!(
            normalize(IdentityKind::Email, " Melissa@Gmail.com ").unwrap(),
            "melissa@gmail.com"
        );
        assert_eq!(
            normalize(IdentityKind::Phone, "+1 (123) 456 7890").unwrap(),
            "+11234567890"
        );
        assert!(normalize(IdentityKind::Email, "nope").is_err());
        assert!(normalize(IdentityKind::Unspecified, "x").is_err());
    }
}
