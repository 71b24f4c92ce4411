//! Shared vocabulary of the PCI scanners: what separates digit groups and how
//! a detection is written back into the text.

use crate::MASK_CHAR;

/// One detection: the span it covers and the positions it overwrites.
///
/// Positions are indexes into the `char` buffer, never byte offsets, so a
/// detection can never split a multi-byte character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hit {
    /// First char of the detected value.
    pub(crate) start: usize,
    /// One past its last char.
    pub(crate) end: usize,
    /// Chars to replace with [`MASK_CHAR`]; the kept tail is simply absent.
    pub(crate) masked: Vec<usize>,
}

/// Tells whether `c` may sit between two groups of an identifier written
/// with spacing: a plain space, or the no-break spaces French typography and
/// many mobile keyboards insert inside long numbers.
pub(crate) fn is_space_sep(c: char) -> bool {
    matches!(c, ' ' | '\u{a0}' | '\u{202f}')
}

/// Tells whether `c` glues the identifier to a neighbouring word, so that a
/// digit run inside a longer token (a reference, a hex id) is not taken for
/// a separate value. Only ASCII counts: CJK text is written without spaces,
/// and a card number right after `番号` must still be found.
pub(crate) fn glues(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_ascii_alphanumeric())
}

/// Overwrites every masked position of `hits` in `chars`.
pub(crate) fn apply(chars: &mut [char], hits: &[Hit]) {
    for hit in hits {
        for &i in &hit.masked {
            if let Some(c) = chars.get_mut(i) {
                *c = MASK_CHAR;
            }
        }
    }
}

/// `text` with the hits of one scanner masked: what each scanner's tests
/// assert on.
#[cfg(test)]
pub(crate) fn masked_by(scan: fn(&[char]) -> Vec<Hit>, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let hits = scan(&chars);
    apply(&mut chars, &hits);
    chars.into_iter().collect()
}

/// Counts the distinct values among `hits`: the largest set of hits that do
/// not overlap (earliest end first). Two candidate windows over the same
/// card count once, while cards written back to back still count each.
pub(crate) fn count_values(hits: &[Hit]) -> usize {
    let mut spans: Vec<(usize, usize)> = hits.iter().map(|h| (h.end, h.start)).collect();
    spans.sort_unstable();
    let mut count = 0;
    let mut free_from = 0;
    for (end, start) in spans {
        if start >= free_from {
            count += 1;
            free_from = end;
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(start: usize, end: usize) -> Hit {
        Hit {
            start,
            end,
            masked: Vec::new(),
        }
    }

    // spec: CNV-9
    #[test]
    fn overlapping_hits_count_once_adjacent_ones_each() {
        assert_eq!(count_values(&[]), 0);
        assert_eq!(count_values(&[hit(0, 10), hit(5, 20)]), 1);
        assert_eq!(count_values(&[hit(30, 40), hit(0, 10), hit(5, 20)]), 2);
        assert_eq!(count_values(&[hit(0, 10), hit(8, 18), hit(10, 20)]), 2);
    }

    // spec: CNV-9
    #[test]
    fn apply_ignores_out_of_range_positions() {
        let mut chars: Vec<char> = "ab".chars().collect();
        apply(
            &mut chars,
            &[Hit {
                start: 0,
                end: 9,
                masked: vec![1, 9],
            }],
        );
        assert_eq!(chars, vec!['a', '*']);
    }
}
