//! Payment card numbers: 13 to 19 digits passing Luhn, written in one block
//! or in groups separated by a space or a dash.

use crate::checksum::luhn_valid;
use crate::scan::{Hit, glues, is_space_sep};

const MIN_DIGITS: usize = 13;
const MAX_DIGITS: usize = 19;
/// Card numbers keep their last four digits, as on receipts (PCI DSS allows
/// at most the first six and last four).
const KEPT_DIGITS: usize = 4;

fn is_card_sep(c: char) -> bool {
    c == '-' || is_space_sep(c)
}

/// A maximal run of digit groups joined by single separators, as char ranges.
fn digit_run(chars: &[char], start: usize) -> Vec<(usize, usize)> {
    let mut groups = Vec::new();
    let mut i = start;
    loop {
        let group_start = i;
        while chars.get(i).is_some_and(char::is_ascii_digit) {
            i += 1;
        }
        groups.push((group_start, i));
        let joined = chars.get(i).is_some_and(|&c| is_card_sep(c))
            && chars.get(i + 1).is_some_and(char::is_ascii_digit);
        if !joined {
            return groups;
        }
        i += 1;
    }
}

/// Finds every card number in `chars`.
///
/// Digits of a run may be grouped in any way, and a run may hold more than
/// the card (an order number before it, an expiry after it), so every window
/// of whole groups with 13–19 digits is a candidate. All Luhn-valid windows
/// are masked, each keeping its own last four digits; when windows overlap,
/// a digit kept by one but covered by another is masked. Choosing a single
/// "best" window instead could leave most of the real card in clear.
///
/// A run glued to a letter is part of an identifier and skipped; a run right
/// after `+` is an international phone number, not a card.
pub(crate) fn scan(chars: &[char]) -> Vec<Hit> {
    let mut hits = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let groups = digit_run(chars, i);
        let before = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
        let run_end = groups.last().map_or(i + 1, |&(_, end)| end);
        let open_start = !glues(before) && before != Some('+');
        let open_end = !glues(chars.get(run_end).copied());
        windows(chars, &groups, open_start, open_end, &mut hits);
        i = run_end;
    }
    hits
}

fn windows(
    chars: &[char],
    groups: &[(usize, usize)],
    open_start: bool,
    open_end: bool,
    hits: &mut Vec<Hit>,
) {
    let last = groups.len().saturating_sub(1);
    for first in 0..groups.len() {
        if first == 0 && !open_start {
            continue;
        }
        let mut positions: Vec<usize> = Vec::with_capacity(MAX_DIGITS);
        for (g, &(start, end)) in groups.iter().enumerate().skip(first) {
            positions.extend(start..end);
            if positions.len() > MAX_DIGITS {
                break;
            }
            if positions.len() < MIN_DIGITS || (g == last && !open_end) {
                continue;
            }
            let digits: Vec<u8> = positions
                .iter()
                .filter_map(|&p| chars.get(p).and_then(|c| c.to_digit(10)))
                .filter_map(|d| u8::try_from(d).ok())
                .collect();
            if luhn_valid(&digits) {
                hits.push(Hit {
                    start: groups[first].0,
                    end,
                    masked: positions[..positions.len() - KEPT_DIGITS].to_vec(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(text: &str) -> String {
        crate::scan::masked_by(scan, text)
    }

    // spec: CNV-9
    #[test]
    fn masks_all_but_last_four_keeping_the_layout() {
        assert_eq!(mask("4111111111111111"), "************1111");
        assert_eq!(mask("4111 1111 1111 1111"), "**** **** **** 1111");
        assert_eq!(mask("4111-1111-1111-1111"), "****-****-****-1111");
        assert_eq!(mask("3782 822463 10005"), "**** ****** *0005");
        assert_eq!(mask("4222222222222"), "*********2222");
        assert_eq!(
            mask("5555\u{a0}5555\u{a0}5555\u{a0}4444"),
            "****\u{a0}****\u{a0}****\u{a0}4444"
        );
    }

    // spec: CNV-9
    #[test]
    fn leaves_luhn_invalid_and_out_of_range_numbers() {
        assert_eq!(mask("4111 1111 1111 1112"), "4111 1111 1111 1112");
        // 12 digits: too short even though Luhn-valid.
        assert_eq!(mask("411111111116"), "411111111116");
        // 20 digits in one block is no card.
        assert_eq!(mask("41111111111111111113"), "41111111111111111113");
    }

    // spec: CNV-9
    #[test]
    fn skips_numbers_glued_to_words_or_after_a_plus() {
        assert_eq!(mask("ref4111111111111111"), "ref4111111111111111");
        assert_eq!(mask("4111111111111111x"), "4111111111111111x");
        assert_eq!(mask("+4111111111111111"), "+4111111111111111");
    }

    // spec: CNV-9
    #[test]
    fn finds_the_card_inside_a_longer_run_of_groups() {
        // An expiry glued to the card does not protect it.
        let out = mask("card 4111 1111 1111 1111 12 27");
        assert!(out.starts_with("card **** **** **** "), "{out}");
        assert!(!out.contains("4111"), "{out}");
    }
}
