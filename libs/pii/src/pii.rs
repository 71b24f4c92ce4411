//! PII masking for agent-facing reads (CNV-9): email addresses and phone
//! numbers inside free text.

use crate::email::{self, EmailSpan};
use crate::phone::{self, Candidate, mask_phone};

/// Masks every email address and phone number in `text`, leaving the rest
/// untouched.
///
/// Emails follow [`mask_email`](crate::mask_email)
/// (`melissa@gmail.com` → `m******@gmail.com`) and phone numbers follow
/// [`mask_phone`] (`+1 (123) 456 7890` → `**********7890`).
///
/// Phone numbers are recognized by a heuristic (see
/// [`is_phone_like`](crate::is_phone_like)): a run starting with `+`, `(` or
/// a digit, made of digit groups with `-`, `.`, `(`, `)` and single spaces,
/// holding 8 to 15 digits, not glued to a word; dates (`2026-11-22`), times
/// (`14:30`), IP addresses, decimals and numbers shorter than 8 digits are
/// left alone, and so is a run of more than 15 digits.
///
/// The output is never longer than the input: it loses exactly the
/// whitespace inside masked phone numbers. Masking is idempotent. The same
/// function suits a customer's display name, which CNV-9 masks when it is a
/// phone number.
pub fn mask_pii(text: &str) -> String {
    // Repeat until stable, so a second application is always a no-op even
    // when removing spaces from a number brings new neighbours together.
    // Each productive round turns at least one character into `*` without
    // adding any, so it terminates.
    let mut current = mask_once(text);
    loop {
        let next = mask_once(&current);
        if next == current {
            return current;
        }
        current = next;
    }
}

fn mask_once(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let emails = email::find_emails(&chars);
    let mut out = String::with_capacity(text.len());
    let mut next_email = emails.iter().copied().peekable();
    let mut i = 0;
    while i < chars.len() {
        if let Some(span) = next_email.next_if(|s: &EmailSpan| s.start == i) {
            email::push_masked(&mut out, &chars, span);
            i = span.end;
            continue;
        }
        // A phone number never runs into the next address.
        let limit = next_email.peek().map_or(chars.len(), |s| s.start);
        match phone::find_phone(&chars, i, limit) {
            Candidate::Phone(end) => {
                let number: String = chars[i..end].iter().collect();
                out.push_str(&mask_phone(&number));
                i = end;
            }
            Candidate::Skip(resume) => {
                out.extend(&chars[i..resume]);
                i = resume;
            }
            Candidate::NoStart => {
                out.push(chars[i]);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // spec: CNV-9
    #[test]
    fn masks_the_source_examples_inside_text() {
        assert_eq!(
            mask_pii("Call me at +1 (123) 456 7890 or +447966197542, or mail melissa@gmail.com."),
            "Call me at **********7890 or *********7542, or mail m******@gmail.com."
        );
    }

    // spec: CNV-9
    #[test]
    fn masks_multiple_occurrences_and_unicode_neighbours() {
        assert_eq!(
            mask_pii("Élodie 😀: 06 12 34 56 78 / élodie.durand@exemple.fr / 07.98.76.54.32"),
            "Élodie 😀: ******5678 / é************@exemple.fr / *********54.32"
        );
        assert_eq!(
            mask_pii("メールはmelissa@gmail.comです、電話は+81 90 1234 5678"),
            "メールはm******@gmail.comです、電話は*********5678"
        );
    }

    // spec: CNV-9
    #[test]
    fn leaves_dates_times_orders_and_amounts() {
        for text in [
            "Delivery on 2026-11-22 at 14:30, order 1234567.",
            "Le 22.11.2026 à 9h, commande n°12345, total 1299.99 €",
            "Server 192.168.100.200 is down",
            "Room 4, floor 12",
            "",
        ] {
            assert_eq!(mask_pii(text), text);
        }
    }

    // spec: CNV-9
    #[test]
    fn masks_a_customer_name_that_is_a_phone_number() {
        assert_eq!(mask_pii("+33 6 12 34 56 78"), "********5678");
        assert_eq!(mask_pii("Melissa Durand"), "Melissa Durand");
    }

    // spec: CNV-9
    #[test]
    fn a_number_in_the_local_part_stays_with_the_address() {
        assert_eq!(
            mask_pii("0612345678@sms.example.com"),
            "0*********@sms.example.com"
        );
    }

    // spec: CNV-9
    #[test]
    fn is_idempotent_on_its_own_output() {
        let once = mask_pii("a@b.io, +1 (123) 456 7890 1234, 06 12 34 56 78 2026-11-22");
        assert_eq!(mask_pii(&once), once);
    }

    // spec: CNV-9
    #[test]
    fn a_long_digit_run_is_left_whole_not_peeled_from_the_end() {
        let text = "1234 5678 9012 3456 7890 1234 5678";
        assert_eq!(mask_pii(text), text);
    }
}
