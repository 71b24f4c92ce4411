//! Redaction of any text bound for logs or traces (TEN-8).

use std::fmt;

use crate::{mask_pci, mask_pii};

/// Returns `text` with PCI values masked as by [`mask_pci`] and email
/// addresses and phone numbers masked as by [`mask_pii`].
///
/// Services call it on every piece of customer-provided text that could end
/// up in a log line or a span attribute. It does not make a message body fit
/// for logs (TEN-8 forbids logging bodies at all); it protects identifiers
/// and free-form fields that slip through, such as a contact's name or an
/// error message echoing input.
pub fn redact_for_log(text: &str) -> String {
    // Alternate both maskings until stable: PII masking removes spaces inside
    // phone numbers, which could in theory bring digits together into a new
    // card candidate, and the result must be idempotent all the same.
    let mut current = mask_pii(mask_pci(text).as_str());
    loop {
        let next = mask_pii(mask_pci(&current).as_str());
        if next == current {
            return current;
        }
        current = next;
    }
}

/// Displays its text through [`redact_for_log`], for direct use in tracing
/// fields: `warn!(name = %Redacted(&contact.name), "contact rejected")`.
#[derive(Debug, Clone, Copy)]
pub struct Redacted<'a>(pub &'a str);

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_for_log(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // spec: TEN-8
    #[test]
    fn log_text_has_no_card_iban_ssn_email_or_phone_in_clear() {
        let text = "contact melissa@gmail.com +447966197542 paid with 4111 1111 1111 1111, \
                    iban GB82 WEST 1234 5698 7654 32, ssn 123-45-6789";
        let expected = "contact m******@gmail.com *********7542 paid with **** **** **** 1111, \
                        iban GB** **** **** **** **54 32, ssn ***-**-6789";
        assert_eq!(redact_for_log(text), expected);
        assert_eq!(Redacted(text).to_string(), expected);
    }

    // spec: TEN-8
    #[test]
    fn log_redaction_keeps_ordinary_text() {
        let text = "offer expired after 30s for queue « support-fr » 😀";
        assert_eq!(redact_for_log(text), text);
    }
}
