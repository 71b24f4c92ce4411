//! The history checker of the fault runs, after Jepsen's total-queue
//! checker: given every write the source of truth holds (committed) and
//! every effect the consumer applied, it counts what was lost (committed,
//! never applied), duplicated (applied more than once), unexpected
//! (applied, never committed) and reordered (applied before an earlier
//! write of the same aggregate). Pure: the run collects, this judges.
use std::collections::{HashMap, HashSet};

pub mod load;
pub mod schedule;

use uuid::Uuid;

/// One committed write: an event of `aggregate`, its `seq`-th.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    pub event_id: Uuid,
    pub aggregate: String,
    pub seq: i64,
}

/// One applied effect, in the order the consumer applied them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effect {
    pub event_id: Uuid,
    pub aggregate: String,
    pub seq: i64,
}

/// What the checker found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    pub committed: usize,
    pub applied: usize,
    pub lost: Vec<Uuid>,
    pub duplicated: Vec<Uuid>,
    pub unexpected: Vec<Uuid>,
    /// Effects applied after a later write of their aggregate.
    pub reordered: Vec<Uuid>,
}

impl Verdict {
    /// Nothing lost, duplicated or unexpected.
    pub fn exactly_once(&self) -> bool {
        self.lost.is_empty() && self.duplicated.is_empty() && self.unexpected.is_empty()
    }

    /// Exactly once, and in order within every aggregate.
    pub fn clean(&self) -> bool {
        self.exactly_once() && self.reordered.is_empty()
    }

    /// One line of figures for the run's output.
    pub fn figures(&self) -> String {
        format!(
            "committed={} applied={} lost={} duplicated={} unexpected={} reordered={}",
            self.committed,
            self.applied,
            self.lost.len(),
            self.duplicated.len(),
            self.unexpected.len(),
            self.reordered.len()
        )
    }
}

/// Judges a history.
pub fn check(writes: &[Write], effects: &[Effect]) -> Verdict {
    let committed: HashSet<Uuid> = writes.iter().map(|w| w.event_id).collect();
    let mut seen: HashMap<Uuid, usize> = HashMap::new();
    for e in effects {
        *seen.entry(e.event_id).or_default() += 1;
    }
    let mut v = Verdict {
        committed: committed.len(),
        applied: seen.len(),
        ..Verdict::default()
    };
    v.lost = writes
        .iter()
        .filter(|w| !seen.contains_key(&w.event_id))
        .map(|w| w.event_id)
        .collect();
    v.duplicated = seen
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| *id)
        .collect();
    v.unexpected = seen
        .keys()
        .filter(|id| !committed.contains(id))
        .copied()
        .collect();
    let mut highest: HashMap<&str, i64> = HashMap::new();
    for e in effects {
        let top = highest.entry(e.aggregate.as_str()).or_insert(i64::MIN);
        if e.seq < *top {
            v.reordered.push(e.event_id);
        } else {
            *top = e.seq;
        }
    }
    v.lost.sort();
    v.duplicated.sort();
    v.unexpected.sort();
    v
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn w(n: u128, agg: &str, seq: i64) -> Write {
        Write {
            event_id: id(n),
            aggregate: agg.into(),
            seq,
        }
    }

    fn e(n: u128, agg: &str, seq: i64) -> Effect {
        Effect {
            event_id: id(n),
            aggregate: agg.into(),
            seq,
        }
    }

    #[test]
    fn a_clean_history_passes() {
        let v = check(
            &[w(1, "a", 1), w(2, "a", 2), w(3, "b", 1)],
            &[e(1, "a", 1), e(3, "b", 1), e(2, "a", 2)],
        );
        assert!(v.clean());
        assert_eq!(
            v.figures(),
            "committed=3 applied=3 lost=0 duplicated=0 unexpected=0 reordered=0"
        );
    }

    #[test]
    fn each_kind_of_anomaly_is_counted() {
        let v = check(
            &[w(1, "a", 1), w(2, "a", 2), w(3, "b", 1)],
            &[e(2, "a", 2), e(1, "a", 1), e(2, "a", 2), e(9, "c", 1)],
        );
        assert_eq!(v.lost, vec![id(3)]);
        assert_eq!(v.duplicated, vec![id(2)]);
        assert_eq!(v.unexpected, vec![id(9)]);
        assert_eq!(v.reordered, vec![id(1)]);
        assert!(!v.exactly_once());
    }

    #[test]
    fn a_reordered_history_is_not_clean() {
        let v = check(&[w(1, "a", 1), w(2, "a", 2)], &[e(2, "a", 2), e(1, "a", 1)]);
        assert!(v.exactly_once());
        assert!(!v.clean());
    }
}
