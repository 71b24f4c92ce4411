//! Property tests: the fuzz harness of this crate.
//!
//! They feed arbitrary Unicode and digit-heavy text to every entry point and
//! check the invariants callers rely on: no panic, idempotence, the
//! documented length rules, and that valid card numbers and IBANs never
//! survive in clear whatever surrounds them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use livedesk_pii::{mask_pci, mask_pii, redact_for_log};
use proptest::prelude::*;

/// Text dense in the characters the scanners care about, so that near-misses
/// (dates, spaced digits, `@`, `+`, `(`) come up far more often than with
/// arbitrary strings, with multi-byte characters mixed in.
fn dense_text() -> impl Strategy<Value = String> {
    "[0-9 +()./:,@a-zA-Z*\\-\u{a0}é😀番]{0,80}"
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), dense_text()]
}

fn luhn_check_digit(body: &[u8]) -> u8 {
    // The check digit is the one that makes the whole number Luhn-valid:
    // double every second digit counting from the right of the full number.
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    u8::try_from((10 - sum % 10) % 10).unwrap()
}

/// A Luhn-valid card number of 13 to 19 digits, written compact, in groups
/// of four with spaces, or with dashes.
fn card() -> impl Strategy<Value = (String, String)> {
    (prop::collection::vec(0u8..10, 12..=18), 0usize..3).prop_map(|(mut digits, style)| {
        digits.push(luhn_check_digit(&digits));
        let compact: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
        let written = match style {
            0 => compact.clone(),
            _ => {
                let sep = if style == 1 { " " } else { "-" };
                let groups: Vec<String> = compact
                    .as_bytes()
                    .chunks(4)
                    .map(|c| String::from_utf8(c.to_vec()).unwrap())
                    .collect();
                groups.join(sep)
            }
        };
        (compact, written)
    })
}

/// A mod-97-valid IBAN for a few registry countries, compact or in groups of
/// four.
fn iban() -> impl Strategy<Value = (String, String)> {
    let country = prop_oneof![
        Just(("FR", 27)),
        Just(("GB", 22)),
        Just(("DE", 22)),
        Just(("NO", 15))
    ];
    (country, prop::collection::vec(0u8..36, 30), any::<bool>()).prop_map(
        |((cc, len), raw, spaced)| {
            let bban: String = raw[..len - 4]
                .iter()
                .map(|&v| {
                    char::from_digit(u32::from(v), 36)
                        .unwrap()
                        .to_ascii_uppercase()
                })
                .collect();
            let numeric: String = format!("{bban}{cc}00")
                .chars()
                .map(|c| c.to_digit(36).unwrap().to_string())
                .collect();
            let rem = numeric
                .chars()
                .fold(0u32, |r, c| (r * 10 + c.to_digit(10).unwrap()) % 97);
            let compact = format!("{cc}{:02}{bban}", 98 - rem);
            let written = if spaced {
                compact
                    .as_bytes()
                    .chunks(4)
                    .map(|c| String::from_utf8(c.to_vec()).unwrap())
                    .collect::<Vec<_>>()
                    .join(" ")
            } else {
                compact.clone()
            };
            (compact, written)
        },
    )
}

fn without_separators(text: &str) -> String {
    text.chars()
        .filter(|&c| !matches!(c, ' ' | '-' | '\u{a0}'))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    // spec: CNV-9
    #[test]
    fn pci_masking_preserves_length_and_is_idempotent(text in any_text()) {
        let once = mask_pci(&text);
        prop_assert_eq!(once.as_str().chars().count(), text.chars().count());
        let twice = mask_pci(once.as_str());
        prop_assert_eq!(twice.as_str(), once.as_str());
        prop_assert!(twice.is_clean());
    }

    // spec: CNV-9
    #[test]
    fn pii_masking_only_drops_whitespace_and_is_idempotent(text in any_text()) {
        let once = mask_pii(&text);
        let (before, after) = (text.chars().count(), once.chars().count());
        let spaces = text.chars().filter(|c| c.is_whitespace()).count();
        prop_assert!(after <= before && before - after <= spaces);
        prop_assert_eq!(mask_pii(&once), once);
    }

    // spec: TEN-8
    #[test]
    fn log_redaction_is_idempotent(text in any_text()) {
        let once = redact_for_log(&text);
        prop_assert_eq!(redact_for_log(&once), once);
    }

    // spec: CNV-9
    #[test]
    fn a_valid_card_never_survives(
        (compact, written) in card(),
        before in any_text(),
        after in any_text(),
    ) {
        let text = format!("{before} {written} {after}");
        let masked = mask_pci(&text);
        prop_assert!(!masked.is_clean());
        prop_assert!(!masked.as_str().contains(&written));
        prop_assert!(!without_separators(masked.as_str()).contains(&compact));
        prop_assert!(!redact_for_log(&text).contains(&written));
    }

    // spec: CNV-9
    #[test]
    fn a_valid_iban_never_survives(
        (compact, written) in iban(),
        before in any_text(),
        after in any_text(),
    ) {
        let text = format!("{before} {written} {after}");
        let masked = mask_pci(&text);
        prop_assert!(!masked.is_clean());
        prop_assert!(!without_separators(masked.as_str()).contains(&compact));
    }
}
