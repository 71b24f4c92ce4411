//! Phone numbers: the `**********7890` mask and the heuristic that finds
//! numbers in free text without eating dates, times or amounts.

use crate::MASK_CHAR;
use crate::scan::is_space_sep;

/// E.164 allows at most 15 digits; fewer than 8 is an extension, a year, an
/// order number or a price far more often than a phone number.
const MIN_DIGITS: usize = 8;
const MAX_DIGITS: usize = 15;
/// Longest written form accepted, separators included.
const MAX_SPAN_CHARS: usize = 32;
/// Phone groupings have at most a country code and a trunk digit of one
/// digit (`+33 6 …`, `1 800 …`); more single digits is a list of numbers.
const MAX_SINGLE_DIGIT_GROUPS: usize = 2;
const KEPT_DIGITS: usize = 4;

/// Masks a phone number: whitespace is removed, then every character before
/// the fourth-to-last digit becomes `*` and the rest stays, so
/// `+1 (123) 456 7890` → `**********7890` (`+1(123)4567890` has ten
/// characters before `7890`) and `+447966197542` → `*********7542`.
///
/// Input with four digits or fewer keeps nothing: every non-whitespace
/// character becomes `*`.
pub fn mask_phone(phone: &str) -> String {
    let compact: Vec<char> = phone.chars().filter(|c| !c.is_whitespace()).collect();
    let digits = compact.iter().filter(|c| c.is_ascii_digit()).count();
    let keep_from = if digits > KEPT_DIGITS {
        compact
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_ascii_digit())
            .nth(digits - KEPT_DIGITS)
            .map_or(compact.len(), |(i, _)| i)
    } else {
        compact.len()
    };
    compact
        .iter()
        .enumerate()
        .map(|(i, &c)| if i < keep_from { MASK_CHAR } else { c })
        .collect()
}

/// Tells whether `text`, once trimmed, is a phone number and nothing else:
/// the test for "the customer's name is a phone number" (CNV-9). It uses the
/// same heuristic as [`mask_pii`](crate::mask_pii) in free text.
pub fn is_phone_like(text: &str) -> bool {
    let chars: Vec<char> = text.trim().chars().collect();
    find_phone(&chars, 0, chars.len()) == Candidate::Phone(chars.len())
}

/// Tells whether `c` right before a candidate makes it part of another token:
/// a word, an id (`#12345678`, `id=12345678`, `/12345678`), an amount
/// (`$12345678`), a decimal, or an already masked value.
fn glued_before(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '*' | '+'
                | '.'
                | ','
                | '-'
                | '/'
                | '\\'
                | '@'
                | '_'
                | '#'
                | '='
                | '&'
                | '%'
                | '$'
                | '€'
                | '£'
                | '¥'
        )
}

fn glued_after(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '*' | '@' | '_')
}

fn is_piece_char(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '-' | '.' | '(' | ')')
}

/// What [`find_phone`] found at a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Candidate {
    /// No number can start here; look at the next character.
    NoStart,
    /// A phone number ends here (one past its last digit).
    Phone(usize),
    /// A run of pieces that is not a phone number; resume here. Skipping the
    /// whole run matters: trying its suffixes would find a "number" in the
    /// tail of a long digit run, and masking it would expose the next tail
    /// on the next pass.
    Skip(usize),
}

/// Finds a phone number starting exactly at `start`, ending before `limit`.
///
/// A number is a run of pieces separated by single spaces; a piece is digits
/// with `-`, `.`, `(`, `)` (and a leading `+` on the first). The run holds
/// 8–15 digits in all and is not glued to a word on either side. A piece
/// stops the run (the pieces before it may still be a number) when it is a
/// date (`2026-11-22`, `22.11.2026`), an IPv4 address, a decimal (`12.50`),
/// is followed by `:` or `/` (a time, a fraction, a date), or by `,` and a
/// digit (a decimal comma), or is a third one-digit group. A run with more
/// than 15 digits or longer than 32 characters is no phone number at all.
pub(crate) fn find_phone(chars: &[char], start: usize, limit: usize) -> Candidate {
    let limit = limit.min(chars.len());
    let Some(&first) = chars.get(start).filter(|_| start < limit) else {
        return Candidate::NoStart;
    };
    let glued = start
        .checked_sub(1)
        .and_then(|p| chars.get(p))
        .is_some_and(|&c| glued_before(c));
    let starts_ok = match first {
        '+' | '(' => chars.get(start + 1).is_some_and(char::is_ascii_digit),
        c => c.is_ascii_digit(),
    };
    if glued || !starts_ok {
        return Candidate::NoStart;
    }

    let mut i = start;
    let mut digits = 0;
    let mut singles = 0;
    let mut span_end = None;
    loop {
        let piece_start = i;
        if i == start && first == '+' {
            i += 1;
        }
        while i < limit && is_piece_char(chars[i]) {
            i += 1;
        }
        let piece = &chars[piece_start..i];
        if piece_start == start && first == '(' && !piece.contains(&')') {
            return Candidate::NoStart;
        }
        let piece_digits = piece.iter().filter(|c| c.is_ascii_digit()).count();
        if piece_digits == 1 {
            singles += 1;
        }
        if stops_run(piece, chars.get(i).copied(), chars.get(i + 1).copied())
            || singles > MAX_SINGLE_DIGIT_GROUPS
        {
            // The breaking piece is looked at again as a possible start.
            i = piece_start;
            break;
        }
        digits += piece_digits;
        if let Some(last) = piece.iter().rposition(char::is_ascii_digit) {
            span_end = Some(piece_start + last + 1);
        }
        let continues = i + 1 < limit
            && is_space_sep(chars[i])
            && chars.get(i + 1).is_some_and(|&c| is_piece_char(c));
        if !continues {
            break;
        }
        i += 1;
    }
    let resume = Candidate::Skip(i.max(start + 1));
    let Some(end) = span_end else {
        return resume;
    };
    let glued_end = chars.get(end).is_some_and(|&c| glued_after(c));
    let fits = (MIN_DIGITS..=MAX_DIGITS).contains(&digits) && end - start <= MAX_SPAN_CHARS;
    if fits && !glued_end {
        Candidate::Phone(end)
    } else {
        resume
    }
}

fn stops_run(piece: &[char], next: Option<char>, after_next: Option<char>) -> bool {
    let followed_by_number = after_next.is_some_and(|c| c.is_ascii_digit());
    matches!(next, Some(':' | '/'))
        || (next == Some(',') && followed_by_number)
        || is_date(piece)
        || is_ipv4(piece)
        || is_decimal(piece)
}

/// Splits `piece` on `sep` into numeric parts; `None` if anything but digits
/// and `sep` appears.
fn numeric_parts(piece: &[char], sep: char) -> Option<Vec<u32>> {
    piece
        .split(|&c| c == sep)
        .map(|part| {
            if part.is_empty() || part.len() > 4 {
                return None;
            }
            part.iter()
                .try_fold(0u32, |n, c| Some(n * 10 + c.to_digit(10)?))
        })
        .collect()
}

fn part_lengths(piece: &[char], sep: char) -> Vec<usize> {
    piece.split(|&c| c == sep).map(<[char]>::len).collect()
}

/// `YYYY-MM-DD`, `DD-MM-YYYY`, `DD.MM.YY` and the like, with plausible
/// day and month values.
fn is_date(piece: &[char]) -> bool {
    ['-', '.'].into_iter().any(|sep| {
        let (Some(parts), lens) = (numeric_parts(piece, sep), part_lengths(piece, sep)) else {
            return false;
        };
        let day_month =
            |a: u32, b: u32| (1..=31).contains(&a) && (1..=31).contains(&b) && (a <= 12 || b <= 12);
        match (parts.as_slice(), lens.as_slice()) {
            ([_, m, d], [4, 1..=2, 1..=2]) => day_month(*m, *d),
            ([a, b, _], [1..=2, 1..=2, 2 | 4]) => day_month(*a, *b),
            _ => false,
        }
    })
}

fn is_ipv4(piece: &[char]) -> bool {
    let lens = part_lengths(piece, '.');
    numeric_parts(piece, '.').is_some_and(|parts| {
        parts.len() == 4 && lens.iter().all(|&l| l <= 3) && parts.iter().all(|&p| p <= 255)
    })
}

/// An amount such as `12.50` or `1299.9`: one dot, one or two decimals.
fn is_decimal(piece: &[char]) -> bool {
    numeric_parts(piece, '.').is_some() && matches!(part_lengths(piece, '.').as_slice(), [_, 1..=2])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(text: &str) -> Option<String> {
        let chars: Vec<char> = text.chars().collect();
        match find_phone(&chars, 0, chars.len()) {
            Candidate::Phone(end) => Some(chars[..end].iter().collect()),
            _ => None,
        }
    }

    // spec: CNV-9
    #[test]
    fn masks_the_source_examples() {
        assert_eq!(mask_phone("+1 (123) 456 7890"), "**********7890");
        assert_eq!(mask_phone("+447966197542"), "*********7542");
    }

    // spec: CNV-9
    #[test]
    fn keeps_the_last_four_digits_and_what_separates_them() {
        assert_eq!(mask_phone("06.12.34.56.78"), "*********56.78");
        assert_eq!(mask_phone("+33 6 12 34 56 78"), "********5678");
        assert_eq!(mask_phone("1234"), "****");
        assert_eq!(mask_phone(" 12 "), "**");
        assert_eq!(mask_phone(""), "");
    }

    // spec: CNV-9
    #[test]
    fn recognizes_written_phone_numbers() {
        for text in [
            "+1 (123) 456 7890",
            "+447966197542",
            "+33 6 12 34 56 78",
            "06 12 34 56 78",
            "06.12.34.56.78",
            "(555) 123-4567",
            "555-123-4567",
            "0612345678",
            "+49 30 1234567",
            "12345678",
        ] {
            assert!(is_phone_like(text), "{text}");
            assert!(is_phone_like(&format!("  {text} ")), "{text}");
        }
    }

    // spec: CNV-9
    #[test]
    fn rejects_dates_times_amounts_and_short_numbers() {
        for text in [
            "2026-11-22",
            "22.11.2026",
            "22-11-2026",
            "2026-11-22 14:30",
            "14:30",
            "1234567",
            "order 12345678",
            "192.168.100.200",
            "12.345.678,90",
            "1299.99",
            "1 2 3 4 5 6 7 8",
            "1234567890123456",
            "+",
            "(",
            "Melissa",
            "",
            "**********7890",
            "0612345678x",
        ] {
            assert!(!is_phone_like(text), "{text}");
        }
    }

    // spec: CNV-9
    #[test]
    fn stops_before_a_breaking_piece() {
        assert_eq!(
            find("06 12 34 56 78 14:30").as_deref(),
            Some("06 12 34 56 78")
        );
        assert_eq!(
            find("06 12 34 56 78 2026-11-22").as_deref(),
            Some("06 12 34 56 78")
        );
        assert_eq!(find("06 12 34 56 78.").as_deref(), Some("06 12 34 56 78"));
        assert_eq!(find("(06 12 34 56 78)"), None);
    }
}
