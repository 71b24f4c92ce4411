//! PCI masking applied before storage (CNV-9): the clear value of a card
//! number, IBAN or social security number is overwritten before any caller
//! can persist it.

use std::fmt;

use crate::scan::{self, Hit};
use crate::{card, iban, ssn};

/// A kind of PCI value [`mask_pci`] found and masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PciKind {
    /// A payment card number (PAN) passing Luhn.
    Card,
    /// An IBAN passing mod-97.
    Iban,
    /// A US social security number.
    UsSsn,
    /// A French social security number (NIR) with a valid key.
    FrNir,
}

impl PciKind {
    /// Returns a stable lowercase label, suited to metric labels and audit
    /// records.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Card => "card",
            Self::Iban => "iban",
            Self::UsSsn => "us_ssn",
            Self::FrNir => "fr_nir",
        }
    }
}

impl fmt::Display for PciKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Text that went through [`mask_pci`], with what was found in it.
///
/// Only [`mask_pci`] builds one, so a `Masked` in a signature proves the text
/// is safe to store. It carries the kinds of the values it hid, never the
/// values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Masked {
    text: String,
    findings: Vec<PciKind>,
}

impl Masked {
    /// Returns the masked text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Returns the masked text, dropping the findings.
    pub fn into_string(self) -> String {
        self.text
    }

    /// Returns one entry per masked value, in detection order.
    pub fn findings(&self) -> &[PciKind] {
        &self.findings
    }

    /// Returns how many values of `kind` were masked.
    pub fn count(&self, kind: PciKind) -> usize {
        self.findings.iter().filter(|&&k| k == kind).count()
    }

    /// Tells whether the text held no PCI value at all.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

impl fmt::Display for Masked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl AsRef<str> for Masked {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

type Scanner = fn(&[char]) -> Vec<Hit>;

/// Scanners from the most to the least specific check: an IBAN holds digit
/// runs that may pass Luhn, and a NIR key (1 in 97 by chance) is stricter
/// than Luhn (1 in 10), so the stricter one names the value first and the
/// later passes only see what is left.
const PASSES: [(PciKind, Scanner); 4] = [
    (PciKind::Iban, iban::scan),
    (PciKind::UsSsn, ssn::scan_us),
    (PciKind::FrNir, ssn::scan_nir),
    (PciKind::Card, card::scan),
];

/// Masks every card number, IBAN and social security number in `text`.
///
/// Rules (the output always has exactly as many `char`s as the input, every
/// masked character becomes `*`, separators stay in place):
///
/// - card numbers (13–19 digits, compact or grouped with spaces or dashes,
///   Luhn-valid): every digit but the last four, so
///   `4111 1111 1111 1111` → `**** **** **** 1111`;
/// - IBANs (mod-97-valid, compact or grouped with spaces, either case): every
///   character but the country code and the last four, so
///   `GB82 WEST 1234 5698 7654 32` → `GB** **** **** **** **54 32`;
/// - US SSNs `AAA-GG-SSSS` outside the never-issued ranges: `***-**-6789`;
/// - French NIRs with a valid key: every digit but the last four.
///
/// A value glued to an ASCII letter or digit is part of a longer token and
/// left alone. Digits are ASCII only (full-width digits are not recognized).
pub fn mask_pci(text: &str) -> Masked {
    let mut chars: Vec<char> = text.chars().collect();
    let mut findings = Vec::new();
    // Masking can expose a new candidate (the kept tail of one value next to
    // the digits that follow it), so passes repeat until nothing is found:
    // this makes the function idempotent by construction. Each productive
    // round turns at least one ASCII alphanumeric into `*`, so it terminates.
    loop {
        let before = findings.len();
        for (kind, scanner) in PASSES {
            let hits = scanner(&chars);
            findings.extend(std::iter::repeat_n(kind, scan::count_values(&hits)));
            scan::apply(&mut chars, &hits);
        }
        if findings.len() == before {
            break;
        }
    }
    Masked {
        text: chars.into_iter().collect(),
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // spec: CNV-9
    #[test]
    fn masks_each_kind_and_reports_it_without_the_value() {
        let masked = mask_pci(
            "card 4111 1111 1111 1111, iban GB82 WEST 1234 5698 7654 32, \
             ssn 123-45-6789, nir 1 84 12 76 451 089 46",
        );
        assert_eq!(
            masked.as_str(),
            "card **** **** **** 1111, iban GB** **** **** **** **54 32, \
             ssn ***-**-6789, nir * ** ** ** *** *89 46"
        );
        assert_eq!(
            masked.findings(),
            [PciKind::Iban, PciKind::UsSsn, PciKind::FrNir, PciKind::Card]
        );
        assert_eq!(masked.count(PciKind::Card), 1);
        assert!(!masked.is_clean());
        assert!(!format!("{masked:?}").contains("4111 1111"));
    }

    // spec: CNV-9
    #[test]
    fn masks_the_french_example_iban() {
        let masked = mask_pci("Mon IBAN : FR14 2004 1010 0505 0001 3M02 606 merci");
        assert_eq!(
            masked.as_str(),
            "Mon IBAN : FR** **** **** **** **** ***2 606 merci"
        );
        assert_eq!(masked.findings(), [PciKind::Iban]);
    }

    // spec: CNV-9
    #[test]
    fn leaves_invalid_values_and_ordinary_text() {
        for text in [
            "card 4111 1111 1111 1112",
            "iban GB82 WEST 1234 5698 7654 33",
            "ssn 000-12-3456",
            "order 1234567, call +33 6 12 34 56 78 on 2026-11-22 at 14:30",
            "",
        ] {
            let masked = mask_pci(text);
            assert_eq!(masked.as_str(), text);
            assert!(masked.is_clean());
        }
    }

    // spec: CNV-9
    #[test]
    fn masks_multiple_occurrences() {
        let masked = mask_pci("4111111111111111 / 5555-5555-5555-4444 / 378282246310005");
        assert_eq!(
            masked.as_str(),
            "************1111 / ****-****-****-4444 / ***********0005"
        );
        assert_eq!(masked.count(PciKind::Card), 3);

        // "1111 1111 1111 5555" also passes Luhn: the union of windows masks
        // the first card's tail too, and the count stays two cards.
        let back_to_back = mask_pci("4111 1111 1111 1111 5555 5555 5555 4444");
        assert_eq!(
            back_to_back.as_str(),
            "**** **** **** **** **** **** **** 4444"
        );
        assert_eq!(back_to_back.count(PciKind::Card), 2);
    }

    // spec: CNV-9
    #[test]
    fn keeps_unicode_around_values_intact() {
        let text = "Carte n°4111 1111 1111 1111 😀 — カード番号4111111111111111です";
        let masked = mask_pci(text);
        assert_eq!(
            masked.as_str(),
            "Carte n°**** **** **** 1111 😀 — カード番号************1111です"
        );
        assert_eq!(masked.as_str().chars().count(), text.chars().count());
    }

    // spec: CNV-9
    #[test]
    fn repeats_until_no_candidate_is_left() {
        let once = mask_pci("4111 1111 1111 1111 1234 5678 9012");
        let twice = mask_pci(once.as_str());
        assert_eq!(once.as_str(), twice.as_str());
        assert!(twice.is_clean());
    }

    // spec: CNV-9
    #[test]
    fn labels_are_stable() {
        assert_eq!(PciKind::Card.to_string(), "card");
        assert_eq!(PciKind::Iban.as_str(), "iban");
        assert_eq!(PciKind::UsSsn.as_str(), "us_ssn");
        assert_eq!(PciKind::FrNir.as_str(), "fr_nir");
    }
}
