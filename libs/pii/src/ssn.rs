//! Social security numbers: US SSNs (`AAA-GG-SSSS`) and French NIRs
//! (13-character number + 2-digit key, optionally spaced).

use crate::checksum::nir_key_valid;
use crate::scan::{Hit, glues, is_space_sep};

/// Finds every US SSN written `AAA-GG-SSSS`, excluding the ranges the SSA
/// never issues: area 000, 666 and 900–999, group 00, serial 0000.
///
/// Only the dashed form is recognized: nine bare digits or `AAA GG SSSS`
/// collide with too many phone and order numbers.
pub(crate) fn scan_us(chars: &[char]) -> Vec<Hit> {
    scan_with(chars, match_us)
}

/// Finds every French NIR: 15 digits, optionally in space-separated groups
/// (`1 84 12 76 451 089 46`), whose last two are the key
/// `97 - (first 13 mod 97)`. Corsican departments `2A`/`2B` are accepted.
pub(crate) fn scan_nir(chars: &[char]) -> Vec<Hit> {
    scan_with(chars, match_nir)
}

fn scan_with(chars: &[char], matcher: fn(&[char], usize) -> Option<Hit>) -> Vec<Hit> {
    let mut hits = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match matcher(chars, i) {
            Some(hit) => {
                i = hit.end;
                hits.push(hit);
            }
            None => i += 1,
        }
    }
    hits
}

fn number(digits: &[char]) -> Option<u32> {
    digits
        .iter()
        .try_fold(0, |n, c| Some(n * 10 + c.to_digit(10)?))
}

fn match_us(chars: &[char], start: usize) -> Option<Hit> {
    if glues(start.checked_sub(1).and_then(|p| chars.get(p)).copied()) {
        return None;
    }
    let w = chars.get(start..start + 11)?;
    if w[3] != '-' || w[6] != '-' || glues(chars.get(start + 11).copied()) {
        return None;
    }
    let (area, group, serial) = (number(&w[0..3])?, number(&w[4..6])?, number(&w[7..11])?);
    if area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0 {
        return None;
    }
    Some(Hit {
        start,
        end: start + 11,
        masked: vec![start, start + 1, start + 2, start + 4, start + 5],
    })
}

const NIR_SLOTS: usize = 15;
/// Like cards, the last four characters stay readable so an agent can
/// confirm which number the customer meant.
const NIR_KEPT: usize = 4;

fn match_nir(chars: &[char], start: usize) -> Option<Hit> {
    if glues(start.checked_sub(1).and_then(|p| chars.get(p)).copied()) {
        return None;
    }
    let mut slots = ['0'; NIR_SLOTS];
    let mut positions = [0usize; NIR_SLOTS];
    let mut n = 0;
    let mut i = start;
    while n < NIR_SLOTS {
        let c = *chars.get(i)?;
        let corsica = n == 6 && slots[5] == '2' && matches!(c, 'A' | 'a' | 'B' | 'b');
        if c.is_ascii_digit() || corsica {
            slots[n] = c;
            positions[n] = i;
            n += 1;
        } else if !(n > 0 && is_space_sep(c) && i == positions[n - 1] + 1) {
            // Anything but a single space between two slots ends the attempt.
            return None;
        }
        i += 1;
    }
    let end = positions[NIR_SLOTS - 1] + 1;
    if glues(chars.get(end).copied()) || !nir_key_valid(&slots) {
        return None;
    }
    Some(Hit {
        start,
        end,
        masked: positions[..NIR_SLOTS - NIR_KEPT].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::apply;

    fn mask(text: &str, scan: fn(&[char]) -> Vec<Hit>) -> String {
        let mut chars: Vec<char> = text.chars().collect();
        let hits = scan(&chars);
        apply(&mut chars, &hits);
        chars.into_iter().collect()
    }

    // spec: CNV-9
    #[test]
    fn masks_us_ssn_except_last_four() {
        assert_eq!(mask("123-45-6789", scan_us), "***-**-6789");
        assert_eq!(mask("ssn: 123-45-6789.", scan_us), "ssn: ***-**-6789.");
        assert_eq!(
            mask("123-45-6789 and 234-56-7890", scan_us),
            "***-**-6789 and ***-**-7890"
        );
    }

    // spec: CNV-9
    #[test]
    fn leaves_never_issued_us_ranges_and_other_shapes() {
        for text in [
            "000-12-3456",
            "666-12-3456",
            "900-12-3456",
            "123-00-4567",
            "123-45-0000",
            "123 45 6789",
            "123456789",
            "x123-45-6789",
            "123-45-67890",
            "12-345-6789",
        ] {
            assert_eq!(mask(text, scan_us), text);
        }
    }

    // spec: CNV-9
    #[test]
    fn masks_french_nir_spaced_or_compact() {
        assert_eq!(
            mask("1 84 12 76 451 089 46", scan_nir),
            "* ** ** ** *** *89 46"
        );
        assert_eq!(mask("184127645108946", scan_nir), "***********8946");
        assert_eq!(
            mask("NIR 2 69 05 2A 123 456 88 ok", scan_nir),
            "NIR * ** ** ** *** *56 88 ok"
        );
    }

    // spec: CNV-9
    #[test]
    fn leaves_nir_with_a_wrong_key_or_broken_spacing() {
        for text in [
            "1 84 12 76 451 089 47",
            "1  84 12 76 451 089 46",
            "1841276451089461",
            "2 69 05 3A 123 456 88",
        ] {
            assert_eq!(mask(text, scan_nir), text);
        }
    }
}
