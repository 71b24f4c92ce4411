//! Email addresses: detection in free text and the `m******@gmail.com` mask.

use crate::MASK_CHAR;

/// An email address found in a `char` buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EmailSpan {
    /// First char of the local part.
    pub(crate) start: usize,
    /// Position of the `@`.
    pub(crate) at: usize,
    /// One past the last char of the domain.
    pub(crate) end: usize,
}

/// Masks an email address: the first character of the local part stays, each
/// other local character becomes one `*`, the domain stays, so
/// `melissa@gmail.com` → `m******@gmail.com` (7-char local part, 6 stars).
///
/// A one-character local part is fully masked (`a@x.org` → `*@x.org`):
/// keeping it would show the whole address. The local part is what precedes
/// the last `@`; input without `@` is masked as if it were all local part,
/// so the function never returns a clear value by mistake.
pub fn mask_email(email: &str) -> String {
    match email.rsplit_once('@') {
        Some((local, domain)) => format!("{}@{domain}", mask_local(local)),
        None => mask_local(email),
    }
}

fn mask_local(local: &str) -> String {
    let count = local.chars().count();
    if count <= 1 {
        return MASK_CHAR.to_string().repeat(count);
    }
    local
        .chars()
        .enumerate()
        .map(|(i, c)| if i == 0 { c } else { MASK_CHAR })
        .collect()
}

/// Writes the masked form of `span` (from `chars`) into `out`.
pub(crate) fn push_masked(out: &mut String, chars: &[char], span: EmailSpan) {
    let local: String = chars[span.start..span.at].iter().collect();
    out.push_str(&mask_local(&local));
    out.extend(&chars[span.at..span.end]);
}

/// Local-part characters recognized in free text: the common subset of RFC
/// 5322 atext, plus accented Latin letters (`élodie@…`) so that no part of
/// a French or Spanish name is left in clear. Other scripts are excluded:
/// CJK text is written without spaces and would be swallowed. `*` is left
/// out on purpose: it is the mask character, and a masked address must not
/// be found again.
fn is_local(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '.' | '_' | '%' | '+' | '-')
        || (matches!(c, '\u{c0}'..='\u{24f}') && c.is_alphabetic())
}

fn is_domain(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-')
}

/// Finds the email addresses in `chars`, in order and without overlap.
///
/// Domains are ASCII and local parts ASCII or accented Latin: any other
/// letter ends the address, so one glued to CJK text (`メールはa@b.jpです`)
/// is still found without swallowing its neighbours. A trailing `.` (end of sentence)
/// is not part of the domain.
pub(crate) fn find_emails(chars: &[char]) -> Vec<EmailSpan> {
    let mut spans: Vec<EmailSpan> = Vec::new();
    for (at, _) in chars.iter().enumerate().filter(|&(_, &c)| c == '@') {
        let floor = spans.last().map_or(0, |s| s.end);
        if at < floor {
            continue;
        }
        let mut start = at;
        while start > floor && is_local(chars[start - 1]) {
            start -= 1;
        }
        while start < at && chars[start] == '.' {
            start += 1;
        }
        let mut end = at + 1;
        while chars.get(end).is_some_and(|&c| is_domain(c)) {
            end += 1;
        }
        while end > at + 1 && matches!(chars[end - 1], '.' | '-') {
            end -= 1;
        }
        if start < at && valid_domain(&chars[at + 1..end]) {
            spans.push(EmailSpan { start, at, end });
        }
    }
    spans
}

/// Tells whether `domain` is at least two dot-separated labels, none empty or
/// edged with `-`, ending in an alphabetic or punycode top-level domain.
fn valid_domain(domain: &[char]) -> bool {
    let labels: Vec<&[char]> = domain.split(|&c| c == '.').collect();
    let Some(tld) = labels.last() else {
        return false;
    };
    let labels_ok = labels
        .iter()
        .all(|l| !l.is_empty() && l.first() != Some(&'-') && l.last() != Some(&'-'));
    let tld_ok = tld.len() >= 2
        && (tld.iter().all(char::is_ascii_alphabetic) || tld.starts_with(&['x', 'n', '-', '-']));
    labels.len() >= 2 && labels_ok && tld_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        find_emails(&chars)
            .into_iter()
            .map(|s| chars[s.start..s.end].iter().collect())
            .collect()
    }

    // spec: CNV-9
    #[test]
    fn masks_the_source_example() {
        assert_eq!(mask_email("melissa@gmail.com"), "m******@gmail.com");
    }

    // spec: CNV-9
    #[test]
    fn star_count_is_local_length_minus_one() {
        assert_eq!(mask_email("jo@example.org"), "j*@example.org");
        assert_eq!(mask_email("a@example.org"), "*@example.org");
        assert_eq!(mask_email("élodie@exemple.fr"), "é*****@exemple.fr");
        assert_eq!(mask_email("\"a@b\"@example.org"), "\"****@example.org");
        assert_eq!(mask_email("no-at-sign"), "n*********");
        assert_eq!(mask_email(""), "");
    }

    // spec: CNV-9
    #[test]
    fn finds_addresses_in_free_text() {
        assert_eq!(
            found("Write to melissa@gmail.com. Or bob.smith+tag@mail.example.co.uk!"),
            ["melissa@gmail.com", "bob.smith+tag@mail.example.co.uk"]
        );
        assert_eq!(
            found("メールはmelissa@gmail.comです"),
            ["melissa@gmail.com"]
        );
        assert_eq!(found("...melissa@gmail.com"), ["melissa@gmail.com"]);
        assert_eq!(found("Élodie: élodie@exemple.fr"), ["élodie@exemple.fr"]);
        assert_eq!(found("a@b@c.io"), ["b@c.io"]);
    }

    // spec: CNV-9
    #[test]
    fn ignores_things_that_are_not_addresses() {
        for text in [
            "@everyone",
            "meet @ 5pm",
            "user@localhost",
            "user@host.c",
            "user@-host.com",
            "m******@gmail.com",
            "price@12.50",
        ] {
            assert_eq!(found(text), Vec::<String>::new(), "{text}");
        }
    }
}
