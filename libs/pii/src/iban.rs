//! IBANs: country code, two check digits and up to 30 alphanumerics, written
//! compact or in space-separated groups, passing ISO 7064 mod-97.

use crate::checksum::iban_mod97_valid;
use crate::scan::{Hit, glues, is_space_sep};

const MIN_LEN: usize = 15;
const MAX_LEN: usize = 34;
/// The country code stays readable (agents need to know which bank country
/// was given) and so do the last four characters.
const KEPT_HEAD: usize = 2;
const KEPT_TAIL: usize = 4;

/// IBAN length per country, from the SWIFT IBAN registry. A known country
/// fixes where the IBAN ends even when ordinary words follow it; an unknown
/// one falls back to the longest mod-97-valid prefix.
const LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BI", 27),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DJ", 27),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FK", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MN", 20),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NI", 28),
    ("NL", 18),
    ("NO", 15),
    ("OM", 23),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("RU", 33),
    ("SA", 24),
    ("SC", 31),
    ("SD", 18),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("SO", 23),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
    ("YE", 30),
];

fn registry_length(a: char, b: char) -> Option<usize> {
    let (a, b) = (a.to_ascii_uppercase(), b.to_ascii_uppercase());
    LENGTHS.iter().find_map(|&(code, len)| {
        let mut code = code.chars();
        (code.next() == Some(a) && code.next() == Some(b)).then_some(len)
    })
}

/// Finds every IBAN in `chars`. Letters may be in either case: customers type
/// IBANs in lowercase too, and mod-97 does not care.
pub(crate) fn scan(chars: &[char]) -> Vec<Hit> {
    let mut hits = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match match_at(chars, i) {
            Some(hit) => {
                i = hit.end;
                hits.push(hit);
            }
            None => i += 1,
        }
    }
    hits
}

fn match_at(chars: &[char], start: usize) -> Option<Hit> {
    if glues(start.checked_sub(1).and_then(|p| chars.get(p)).copied()) {
        return None;
    }
    let head = chars.get(start..start + 4)?;
    let shaped = head[0].is_ascii_alphabetic()
        && head[1].is_ascii_alphabetic()
        && head[2].is_ascii_digit()
        && head[3].is_ascii_digit();
    // Check digits are 98 - (x mod 97), hence always 02..=98.
    let check = head[2].to_digit(10)? * 10 + head[3].to_digit(10)?;
    if !shaped || !(2..=98).contains(&check) {
        return None;
    }

    let positions = alnum_positions(chars, start);
    // A prefix is a candidate only if it ends where a group ends, so that an
    // IBAN is never cut in the middle of a word.
    let ends_group = |len: usize| {
        positions
            .get(len - 1)
            .is_some_and(|&p| !glues(chars.get(p + 1).copied()))
    };
    let compact = |len: usize| -> Vec<char> {
        positions[..len]
            .iter()
            .filter_map(|&p| chars.get(p).copied())
            .collect()
    };
    let valid =
        |len: usize| len <= positions.len() && ends_group(len) && iban_mod97_valid(&compact(len));
    let len = match registry_length(head[0], head[1]) {
        Some(len) => valid(len).then_some(len)?,
        None => (MIN_LEN..=positions.len()).rev().find(|&len| valid(len))?,
    };
    Some(Hit {
        start,
        end: positions[len - 1] + 1,
        masked: positions[KEPT_HEAD..len - KEPT_TAIL].to_vec(),
    })
}

/// Positions of up to [`MAX_LEN`] alphanumerics from `start`, skipping single
/// spaces between groups.
fn alnum_positions(chars: &[char], start: usize) -> Vec<usize> {
    let mut positions = Vec::with_capacity(MAX_LEN);
    let mut i = start;
    while positions.len() < MAX_LEN {
        match chars.get(i) {
            Some(c) if c.is_ascii_alphanumeric() => positions.push(i),
            Some(&c)
                if is_space_sep(c) && chars.get(i + 1).is_some_and(char::is_ascii_alphanumeric) => {
            }
            _ => break,
        }
        i += 1;
    }
    positions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(text: &str) -> String {
        crate::scan::masked_by(scan, text)
    }

    // spec: CNV-9
    #[test]
    fn masks_valid_ibans_keeping_country_and_last_four() {
        assert_eq!(
            mask("GB82 WEST 1234 5698 7654 32"),
            "GB** **** **** **** **54 32"
        );
        assert_eq!(
            mask("FR14 2004 1010 0505 0001 3M02 606"),
            "FR** **** **** **** **** ***2 606"
        );
        assert_eq!(mask("GB82WEST12345698765432"), "GB****************5432");
        assert_eq!(
            mask("iban: gb82 west 1234 5698 7654 32."),
            "iban: gb** **** **** **** **54 32."
        );
    }

    // spec: CNV-9
    #[test]
    fn stops_at_the_registry_length_before_following_words() {
        assert_eq!(
            mask("FR14 2004 1010 0505 0001 3M02 606 MERCI BEAUCOUP"),
            "FR** **** **** **** **** ***2 606 MERCI BEAUCOUP"
        );
    }

    // spec: CNV-9
    #[test]
    fn leaves_invalid_or_truncated_ibans() {
        for text in [
            "GB82 WEST 1234 5698 7654 33",
            "GB82 WEST 1234 5698 7654 3",
            "GB82 WEST 1234 5698 7654 32X",
            "XGB82 WEST 1234 5698 7654 32",
            "GB00 WEST 1234 5698 7654 32",
        ] {
            assert_eq!(mask(text), text);
        }
    }

    // spec: CNV-9
    #[test]
    fn unknown_country_uses_the_longest_valid_prefix() {
        // "ZZ" is in no registry; check digits computed for this BBAN.
        let bban = "123456789012";
        let check = {
            let probe: Vec<char> = format!("ZZ00{bban}").chars().collect();
            (2..=98)
                .find(|c| {
                    let mut p = probe.clone();
                    p[2] = char::from_digit(c / 10, 10).unwrap_or('0');
                    p[3] = char::from_digit(c % 10, 10).unwrap_or('0');
                    iban_mod97_valid(&p)
                })
                .unwrap_or(0)
        };
        let iban = format!("ZZ{check:02}{bban}");
        assert_eq!(mask(&iban), format!("ZZ**********{}", &bban[8..]));
    }
}
