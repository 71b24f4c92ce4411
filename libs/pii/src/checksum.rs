//! Check-digit algorithms that tell real identifiers from random digit runs.

/// Tells whether `digits` (values 0..=9) pass the Luhn mod-10 check used by
/// every payment card scheme.
pub(crate) fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Tells whether the compact IBAN `alnum` passes ISO 7064 mod-97-10: with
/// the first four characters moved to the end and letters read as 10..=35,
/// the number is 1 modulo 97.
pub(crate) fn iban_mod97_valid(alnum: &[char]) -> bool {
    if alnum.len() < 5 {
        return false;
    }
    let (head, tail) = alnum.split_at(4);
    let mut rem: u32 = 0;
    for &c in tail.iter().chain(head) {
        // Folding digit by digit keeps the remainder small: no big integers.
        rem = match c.to_digit(36) {
            Some(v) if v < 10 => (rem * 10 + v) % 97,
            Some(v) => (rem * 100 + v) % 97,
            None => return false,
        };
    }
    rem == 1
}

/// Tells whether a French NIR (15 slots: 13-character number + 2-digit key)
/// has a valid key: `key = 97 - (number mod 97)`.
///
/// Corsican department codes `2A` and `2B` (slots 6–7) count as `19` and `18`,
/// the substitution INSEE uses for the key.
pub(crate) fn nir_key_valid(slots: &[char; 15]) -> bool {
    let mut number: u64 = 0;
    for (i, &c) in slots.iter().take(13).enumerate() {
        let v = match (i, c) {
            (5, '2') if matches!(slots[6], 'A' | 'a' | 'B' | 'b') => 1,
            (6, 'A' | 'a') if slots[5] == '2' => 9,
            (6, 'B' | 'b') if slots[5] == '2' => 8,
            _ => match c.to_digit(10) {
                Some(v) => v,
                None => return false,
            },
        };
        number = number * 10 + u64::from(v);
    }
    let key = match (slots[13].to_digit(10), slots[14].to_digit(10)) {
        (Some(a), Some(b)) => u64::from(a * 10 + b),
        _ => return false,
    };
    key == 97 - number % 97
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(s: &str) -> Vec<u8> {
        s.bytes()
            .filter(u8::is_ascii_digit)
            .map(|b| b - b'0')
            .collect()
    }

    fn chars(s: &str) -> Vec<char> {
        s.chars().filter(|c| !c.is_whitespace()).collect()
    }

    fn nir(s: &str) -> [char; 15] {
        let mut out = ['0'; 15];
        for (slot, c) in out.iter_mut().zip(chars(s)) {
            *slot = c;
        }
        out
    }

    // spec: CNV-9
    #[test]
    fn luhn_accepts_test_cards_and_rejects_a_changed_digit() {
        for card in [
            "4111111111111111",
            "5555555555554444",
            "378282246310005",
            "4222222222222",
            "6011111111111117",
        ] {
            assert!(luhn_valid(&digits(card)), "{card}");
        }
        assert!(!luhn_valid(&digits("4111111111111112")));
    }

    // spec: CNV-9
    #[test]
    fn mod97_accepts_registry_examples_and_rejects_a_changed_char() {
        assert!(iban_mod97_valid(&chars("GB82 WEST 1234 5698 7654 32")));
        assert!(iban_mod97_valid(&chars(
            "FR14 2004 1010 0505 0001 3M02 606"
        )));
        assert!(iban_mod97_valid(&chars("gb82 west 1234 5698 7654 32")));
        assert!(!iban_mod97_valid(&chars("GB82 WEST 1234 5698 7654 33")));
        assert!(!iban_mod97_valid(&chars("GB82")));
        assert!(!iban_mod97_valid(&chars("GB82 WE$T 1234 5698 7654 32")));
    }

    // spec: CNV-9
    #[test]
    fn nir_key_is_97_minus_number_mod_97() {
        assert!(nir_key_valid(&nir("1 84 12 76 451 089 46")));
        assert!(nir_key_valid(&nir("2 69 05 49 588 157 80")));
        assert!(nir_key_valid(&nir("2 69 05 2A 123 456 88")));
        assert!(!nir_key_valid(&nir("1 84 12 76 451 089 47")));
        assert!(!nir_key_valid(&nir("2 69 05 2C 123 456 88")));
    }
}
