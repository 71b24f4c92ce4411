//! Who receives a notification. Recipients are principal ids (JWT `sub`):
//! agents by their agent id, visitors by their visitor id.

/// A sorted, de-duplicated set of recipient ids. The order matters: feed
/// writers lock one `feeds` row per recipient, and taking the locks in one
/// global order keeps two concurrent events from deadlocking.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Recipients(Vec<String>);

impl Recipients {
    /// Builds the set from `candidates`, dropping blank ids and every id in
    /// `exclude` (a message's author never hears of their own message,
    /// NTF-1; a blocked customer hears nothing, NTF-3).
    pub fn new<'a>(candidates: impl IntoIterator<Item = &'a str>, exclude: &[&str]) -> Self {
        let mut ids: Vec<String> = candidates
            .into_iter()
            .map(str::trim)
            .filter(|id| !id.is_empty() && !exclude.iter().any(|x| x.trim() == *id))
            .map(str::to_owned)
            .collect();
        ids.sort();
        ids.dedup();
        Self(ids)
    }

    /// The ids, sorted.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// Whether nobody is to be told.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds the ids of `other` (keeping the set sorted and unique).
    pub fn union(mut self, other: Recipients) -> Self {
        self.0.extend(other.0);
        self.0.sort();
        self.0.dedup();
        self
    }
}

impl IntoIterator for Recipients {
    type Item = String;
    type IntoIter = std::vec::IntoIter<String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// The customer to tell, if any: a blocked customer is sent nothing at
/// all (NTF-3, BLK-3), and an unknown one ('') cannot be told.
pub fn reachable_customer(customer: &str, customer_blocked: bool) -> Option<&str> {
    let c = customer.trim();
    (!c.is_empty() && !customer_blocked).then_some(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // spec: NTF-1
    #[test]
    fn the_author_is_never_a_recipient() {
        let r = Recipients::new(
            ["visitor-1", "agent-1", "agent-1", " ", "agent-2"],
            &["agent-1"],
        );
        assert_eq!(r.as_slice(), ["agent-2", "visitor-1"]);
    }

    // spec: NTF-3
    #[test]
    fn a_blocked_customer_is_never_reachable() {
        assert_eq!(reachable_customer("v1", true), None);
        assert_eq!(reachable_customer("v1", false), Some("v1"));
        assert_eq!(reachable_customer(" ", false), None);
    }

    proptest! {
        // spec: NTF-1
        #[test]
        fn recipients_are_sorted_unique_and_exclude_the_excluded(
            ids in proptest::collection::vec("[a-c]{0,2}", 0..12),
            excluded in "[a-c]{1,2}",
        ) {
            let r = Recipients::new(ids.iter().map(String::as_str), &[excluded.as_str()]);
            let s = r.as_slice();
            prop_assert!(s.windows(2).all(|w| w[0] < w[1]));
            prop_assert!(!s.contains(&excluded));
            prop_assert!(s.iter().all(|id| !id.is_empty() && ids.contains(id)));
        }
    }
}
