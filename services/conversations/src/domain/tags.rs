//! Tag recommendation (CNV-11): the org's tags ranked by relevance to a
//! conversation's text. Learned from the org's previously tagged
//! conversations (multinomial naive Bayes over word tokens, Laplace
//! smoothing, posteriors by softmax) and blended with the tags' keyword
//! rules, which carry the ranking while there is little history
//! (cold start). Pure: the caller passes a bounded sample of history.
use std::collections::{HashMap, HashSet};

/// History size at which learned and keyword scores weigh the same.
const HALF_WEIGHT_EXAMPLES: f64 = 10.0;

/// Words too common to tell tags apart (English and French).
const STOPWORDS: &[&str] = &[
    "the", "and", "for", "you", "your", "are", "was", "with", "this", "that", "have", "has", "not",
    "but", "can", "our", "from", "will", "what", "when", "how", "hello", "thanks", "thank",
    "please", "les", "des", "une", "est", "pas", "pour", "que", "qui", "dans", "sur", "avec",
    "vous", "nous", "mon", "mes", "bonjour", "merci",
];

/// A tag as the scorer sees it.
#[derive(Debug, Clone)]
pub struct TagRule {
    pub name: String,
    pub keywords: Vec<String>,
}

/// One previously tagged conversation.
#[derive(Debug, Clone)]
pub struct TaggedText {
    pub tags: Vec<String>,
    pub text: String,
}

/// Lowercased word tokens of at least 3 characters, stopwords removed.
pub fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_lowercase)
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .collect()
}

/// Keyword score: 0 without a match, then 1/2, 3/4, … per matching rule
/// (a rule matches when all its words occur).
fn keyword_score(rule: &TagRule, words: &HashSet<String>) -> f64 {
    let matches = rule
        .keywords
        .iter()
        .filter(|k| {
            let ks = tokens(k);
            !ks.is_empty() && ks.iter().all(|w| words.contains(w))
        })
        .count();
    1.0 - 0.5f64.powi(i32::try_from(matches).unwrap_or(i32::MAX))
}

/// Scores every tag for `text`, best first (ties by name), each in [0, 1].
pub fn recommend(tags: &[TagRule], history: &[TaggedText], text: &str) -> Vec<(usize, f64)> {
    let doc = tokens(text);
    let words: HashSet<String> = doc.iter().cloned().collect();
    let index: HashMap<String, usize> = tags
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.to_lowercase(), i))
        .collect();

    // Per-tag document and term counts over the examples that use the org's tags.
    let mut docs = vec![0f64; tags.len()];
    let mut terms: Vec<HashMap<&str, f64>> = vec![HashMap::new(); tags.len()];
    let mut totals = vec![0f64; tags.len()];
    let mut vocabulary: HashSet<String> = HashSet::new();
    let mut examples = 0f64;
    let example_tokens: Vec<Vec<String>> = history.iter().map(|h| tokens(&h.text)).collect();
    for (h, toks) in history.iter().zip(&example_tokens) {
        let ids: HashSet<usize> = h
            .tags
            .iter()
            .filter_map(|t| index.get(&t.to_lowercase()).copied())
            .collect();
        if ids.is_empty() {
            continue;
        }
        examples += 1.0;
        vocabulary.extend(toks.iter().cloned());
        for &i in &ids {
            docs[i] += 1.0;
            totals[i] += toks.len() as f64;
            for w in toks {
                *terms[i].entry(w.as_str()).or_default() += 1.0;
            }
        }
    }

    let learned: Vec<f64> = if examples > 0.0 && !tags.is_empty() {
        let v = vocabulary.len() as f64;
        let logs: Vec<f64> = (0..tags.len())
            .map(|i| {
                let prior = ((docs[i] + 1.0) / (examples + tags.len() as f64)).ln();
                doc.iter()
                    .filter(|w| vocabulary.contains(*w))
                    .map(|w| {
                        let c = terms[i].get(w.as_str()).copied().unwrap_or(0.0);
                        ((c + 1.0) / (totals[i] + v)).ln()
                    })
                    .sum::<f64>()
                    + prior
            })
            .collect();
        let max = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let exp: Vec<f64> = logs.iter().map(|l| (l - max).exp()).collect();
        let sum: f64 = exp.iter().sum();
        exp.iter().map(|e| e / sum).collect()
    } else {
        vec![0.0; tags.len()]
    };

    let alpha = examples / (examples + HALF_WEIGHT_EXAMPLES);
    let mut scored: Vec<(usize, f64)> = tags
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let s = alpha * learned[i] + (1.0 - alpha) * keyword_score(t, &words);
            (i, s.clamp(0.0, 1.0))
        })
        .collect();
    scored.sort_by(|a, b| {
        b.1.total_cmp(&a.1)
            .then_with(|| tags[a.0].name.cmp(&tags[b.0].name))
    });
    scored
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rule(name: &str, keywords: &[&str]) -> TagRule {
        TagRule {
            name: name.into(),
            keywords: keywords.iter().map(|k| (*k).into()).collect(),
        }
    }

    fn seen(tags: &[&str], text: &str) -> TaggedText {
        TaggedText {
            tags: tags.iter().map(|t| (*t).into()).collect(),
            text: text.into(),
        }
    }

    // spec: CNV-11
    #[test]
    fn keywords_rank_tags_when_there_is_no_history() {
        let tags = [
            rule("billing", &["invoice", "refund"]),
            rule("delivery", &["parcel", "tracking number"]),
        ];
        let ranked = recommend(
            &tags,
            &[],
            "My parcel never came, what is the tracking number?",
        );
        assert_eq!(tags[ranked[0].0].name, "delivery");
        assert!((ranked[0].1 - 0.75).abs() < 1e-9, "two rules matched");
        assert_eq!(ranked[1].1, 0.0);
    }

    // spec: CNV-11
    #[test]
    fn history_outweighs_keywords_once_there_is_enough() {
        // The keyword rule says "billing", but this org's agents tag such
        // conversations "fraud".
        let tags = [rule("billing", &["card"]), rule("fraud", &[])];
        let mut history = Vec::new();
        for _ in 0..40 {
            history.push(seen(
                &["fraud"],
                "someone used my card stolen unknown payment",
            ));
            history.push(seen(&["billing"], "invoice address wrong vat number"));
        }
        let ranked = recommend(&tags, &history, "my card was stolen, unknown payment");
        assert_eq!(tags[ranked[0].0].name, "fraud");
        let ranked = recommend(&tags, &history, "wrong vat on the invoice");
        assert_eq!(tags[ranked[0].0].name, "billing");
    }

    // spec: CNV-11
    #[test]
    fn tokens_drop_short_words_and_stopwords() {
        assert_eq!(tokens("Hello, the Parcel is LATE!"), ["parcel", "late"]);
    }

    proptest! {
        // spec: CNV-11
        #[test]
        fn scores_are_bounded_sorted_and_cover_every_tag(
            text in "[a-z ]{0,60}",
            hist in proptest::collection::vec(("[ab]", "[a-z ]{0,30}"), 0..20),
        ) {
            let tags = [rule("a", &["xyz"]), rule("b", &["abc def"]), rule("c", &[])];
            let history: Vec<TaggedText> = hist.iter().map(|(t, x)| seen(&[t.as_str()], x)).collect();
            let ranked = recommend(&tags, &history, &text);
            prop_assert_eq!(ranked.len(), tags.len());
            prop_assert!(ranked.iter().all(|(_, s)| (0.0..=1.0).contains(s)));
            prop_assert!(ranked.windows(2).all(|w| w[0].1 >= w[1].1));
        }
    }
}
