//! PCI and PII detection and masking for Livedesk (CNV-9, TEN-8): pure,
//! synchronous text transforms with no I/O.
//!
//! Three entry points cover the three places masking happens:
//!
//! - [`mask_pci`] runs on every customer text BEFORE it is stored. It finds
//!   payment card numbers (Luhn), IBANs (ISO 7064 mod-97), US social security
//!   numbers and French NIRs, and overwrites them in place so that the clear
//!   value is never persisted. It reports which [`PciKind`]s it found (for
//!   audit counters), never the values themselves.
//! - [`mask_pii`] runs on agent-facing reads when the organization enables it
//!   (default on): email addresses and phone numbers stay stored but are shown
//!   masked (`melissa@gmail.com` → `m******@gmail.com`,
//!   `+447966197542` → `*********7542`). [`mask_email`], [`mask_phone`] and
//!   [`is_phone_like`] serve single fields such as a customer's name.
//! - [`redact_for_log`] (and its [`Redacted`] display adapter) applies both
//!   before any text reaches logs or traces.
//!
//! Every function works on `char`s and only ever compares against ASCII, so
//! multi-byte text (accents, CJK, emoji) passes through untouched and can never
//! cause a slicing panic. Masking is idempotent by construction: each entry
//! point repeats its pass until the text stops changing.
//!
//! The property tests in `tests/properties.rs` are this crate's fuzz harness:
//! they feed arbitrary Unicode and digit-heavy text to every entry point and
//! check that nothing panics, that masking is idempotent, that lengths follow
//! the documented rules and that generated valid card numbers and IBANs never
//! survive in clear.

mod card;
mod checksum;
mod email;
mod iban;
mod pci;
mod phone;
mod pii;
mod redact;
mod scan;
mod ssn;

pub use email::mask_email;
pub use pci::{Masked, PciKind, mask_pci};
pub use phone::{is_phone_like, mask_phone};
pub use pii::mask_pii;
pub use redact::{Redacted, redact_for_log};

/// The character that replaces every masked character.
pub const MASK_CHAR: char = '*';

/// A customer's name as agents, events and exports see it: masked like a
/// phone number when it is one (CNV-9: messaging channels often only know
/// the number), with any email or phone inside it masked otherwise.
pub fn mask_name(name: &str) -> String {
    if is_phone_like(name) {
        mask_phone(name)
    } else {
        mask_pii(name)
    }
}

#[cfg(test)]
mod name_tests {
    use super::mask_name;

    // spec: CNV-9
    #[test]
    fn a_name_that_is_a_phone_number_is_masked_and_a_real_name_is_kept() {
        assert_eq!(mask_name("+447966197542"), "*********7542");
        assert_eq!(mask_name("Marie Curie"), "Marie Curie");
        assert_eq!(mask_name("melissa@gmail.com"), "m******@gmail.com");
    }
}
