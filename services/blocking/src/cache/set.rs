//! One org's active blocks in memory, and the check answered from them.
//! Pure: no I/O, the clock is an argument.
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use livedesk_proto::common::v1::IdentityKind;
use uuid::Uuid;

use crate::domain::{IpRange, UnknownLabel};
use crate::store::ActiveBlocks;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Held {
    id: Uuid,
    blocked_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
}

/// The active blocks of one org as loaded, with its erasure key.
#[derive(Debug, Default)]
pub struct OrgBlocks {
    /// The org's erasure key (PRV-2), when it has one.
    pub key: Option<Arc<[u8]>>,
    /// Oldest first (by `blocked_at`, then id), as the query's ORDER BY.
    blocks: Vec<Held>,
    /// Each identity (clear or hashed) → the blocks naming it (indices).
    identities: HashMap<(IdentityKind, String), Vec<u32>>,
    /// Each range and its block (index).
    ranges: Vec<(IpRange, u32)>,
}

impl OrgBlocks {
    /// Builds the set from the rows of `Blocks::active_of`. A stored range
    /// that does not parse fails the load (fail closed: a check must not
    /// miss a block it cannot read).
    pub fn from_rows(loaded: ActiveBlocks) -> Result<Self, UnknownLabel> {
        let mut blocks: Vec<Held> = loaded
            .rows
            .iter()
            .map(|r| Held {
                id: r.id,
                blocked_at: r.blocked_at,
                expires_at: r.expires_at,
            })
            .collect();
        blocks.sort_by_key(|b| (b.blocked_at, b.id));
        blocks.dedup_by_key(|b| b.id);
        let index: HashMap<Uuid, u32> = blocks
            .iter()
            .enumerate()
            .map(|(i, b)| (b.id, i as u32))
            .collect();
        let mut identities: HashMap<(IdentityKind, String), Vec<u32>> = HashMap::new();
        let mut ranges = Vec::new();
        let mut with_range = HashSet::new();
        for row in loaded.rows {
            let Some(&i) = index.get(&row.id) else {
                continue;
            };
            // An IP block's range is on each of its rows: held once.
            if let Some(cidr) = row.ip_cidr
                && with_range.insert(i)
            {
                let range = IpRange::from_stored(&cidr).ok_or_else(|| UnknownLabel {
                    column: "blocks.ip_cidr",
                    value: cidr.clone(),
                })?;
                ranges.push((range, i));
            }
            if let Some(identity) = row.identity {
                let of = identities.entry(identity).or_default();
                if !of.contains(&i) {
                    of.push(i);
                }
            }
        }
        Ok(Self {
            key: loaded.key.map(Arc::from),
            blocks,
            identities,
            ranges,
        })
    }

    /// Identities and ranges held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.identities.values().map(Vec::len).sum::<usize>() + self.ranges.len()
    }

    /// The first block active at `now` (not expired: expiry is evaluated
    /// here, at each check, not at load) naming one of `identities` (clear
    /// and hashed: the caller adds the hashed forms) or holding `ip`:
    /// the oldest, as `Blocks::find_active` answers.
    pub fn first_match(
        &self,
        identities: &[(IdentityKind, String)],
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Option<Uuid> {
        let active = move |i: u32| {
            self.blocks
                .get(i as usize)
                .is_some_and(|b| b.expires_at.is_none_or(|e| e > now))
        };
        let by_identity = identities
            .iter()
            .filter_map(|id| self.identities.get(id))
            .flat_map(move |of| of.iter().filter(move |i| active(**i)));
        let by_range = ip.into_iter().flat_map(move |ip| {
            self.ranges
                .iter()
                .filter(move |(r, i)| r.contains(ip) && active(*i))
                .map(|(_, i)| i)
        });
        by_identity
            .chain(by_range)
            .min()
            .and_then(|i| self.blocks.get(*i as usize))
            .map(|b| b.id)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::store::ActiveRow;

    fn row(
        id: u128,
        at: i64,
        expires: Option<i64>,
        ip: Option<&str>,
        who: Option<&str>,
    ) -> ActiveRow {
        let t0 = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        ActiveRow {
            id: Uuid::from_u128(id),
            blocked_at: t0 + Duration::seconds(at),
            expires_at: expires.map(|e| t0 + Duration::seconds(e)),
            ip_cidr: ip.map(str::to_owned),
            identity: who.map(|w| (IdentityKind::Email, w.to_owned())),
        }
    }

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_700_000_000 + s, 0).unwrap()
    }

    fn email(v: &str) -> Vec<(IdentityKind, String)> {
        vec![(IdentityKind::Email, v.to_owned())]
    }

    // spec: BLK-3, BLK-8, BLK-9
    #[test]
    fn the_oldest_block_active_now_is_the_answer() {
        let set = OrgBlocks::from_rows(ActiveBlocks {
            key: None,
            rows: vec![
                row(3, 30, None, None, Some("a@x.io")),
                row(3, 30, None, None, Some("b@x.io")),
                row(1, 10, Some(100), None, Some("a@x.io")),
                row(2, 20, Some(200), Some("10.1.0.0/16"), None),
            ],
        })
        .unwrap();
        assert_eq!(set.len(), 4);
        let ip = Some("10.1.2.3".parse().unwrap());
        assert_eq!(
            set.first_match(&email("a@x.io"), None, at(50)),
            Some(Uuid::from_u128(1))
        );
        assert_eq!(
            set.first_match(&email("a@x.io"), ip, at(50)),
            Some(Uuid::from_u128(1))
        );
        // Block 1 expired at 100: the next one applies, by range or identity.
        assert_eq!(
            set.first_match(&email("a@x.io"), ip, at(100)),
            Some(Uuid::from_u128(2))
        );
        assert_eq!(
            set.first_match(&email("a@x.io"), None, at(150)),
            Some(Uuid::from_u128(3))
        );
        assert_eq!(
            set.first_match(&email("b@x.io"), None, at(150)),
            Some(Uuid::from_u128(3))
        );
        assert_eq!(set.first_match(&[], ip, at(250)), None, "range expired");
        assert_eq!(
            set.first_match(&email("c@x.io"), Some("10.2.0.1".parse().unwrap()), at(0)),
            None
        );
        let phone = vec![(IdentityKind::Phone, "a@x.io".to_owned())];
        assert_eq!(
            set.first_match(&phone, None, at(0)),
            None,
            "the kind counts"
        );
    }

    #[test]
    fn a_stored_range_that_does_not_parse_fails_the_load() {
        let err = OrgBlocks::from_rows(ActiveBlocks {
            key: None,
            rows: vec![row(1, 0, None, Some("nonsense"), None)],
        })
        .unwrap_err();
        assert_eq!(err.column, "blocks.ip_cidr");
    }

    #[test]
    fn an_org_without_blocks_holds_its_key_only() {
        let set = OrgBlocks::from_rows(ActiveBlocks {
            key: Some(vec![7; 32]),
            rows: vec![],
        })
        .unwrap();
        assert_eq!(set.len(), 0);
        assert_eq!(set.key.as_deref(), Some(&[7u8; 32][..]));
        assert_eq!(set.first_match(&email("a@x.io"), None, at(0)), None);
    }
}
