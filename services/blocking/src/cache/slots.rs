//! Which orgs are held, and the rule that keeps a stale load out.
//!
//! A load reads the database at some instant; a change committed after
//! that instant is announced by a notification that may be handled before
//! the load finishes. Storing that load would hold the old set with
//! nothing left to drop it. So a load first takes a ticket: the org's slot
//! is marked `Loading(token)` (or the marker already there is shared), the
//! query runs after that, and the result is stored only if the very same
//! marker is still there. A notification removes the org's slot, a
//! reconnection removes every slot, an eviction removes one: any of them
//! between the ticket and the store makes the store a no-op. Tokens are
//! never reused, so a marker removed and made again does not match an old
//! ticket.
//!
//! Pure: no I/O, no clock; the caller holds it behind a lock.
use std::collections::HashMap;

use uuid::Uuid;

#[derive(Debug, Clone)]
enum Slot<V> {
    Loading(u64),
    Ready(V),
}

/// What a check finds for its org.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup<V> {
    /// Held: answer from it.
    Ready(V),
    /// Not held: load, then [`Slots::finish`] with this ticket.
    Load(Ticket),
    /// No room (a bound of 0 orgs): answer from the database.
    NoRoom,
}

/// The right to store one load of one org.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    org: Uuid,
    token: u64,
}

/// The held orgs, at most `capacity` (markers of loads included).
#[derive(Debug)]
pub struct Slots<V> {
    map: HashMap<Uuid, Slot<V>>,
    capacity: usize,
    next: u64,
}

impl<V: Clone> Slots<V> {
    pub fn new(capacity: usize) -> Self {
        Self {
            map: HashMap::new(),
            capacity,
            next: 0,
        }
    }

    /// The org's entry, or a ticket to load it. When full, one other org
    /// is dropped to make room (an arbitrary one: the first the map yields).
    pub fn lookup(&mut self, org: Uuid) -> Lookup<V> {
        match self.map.get(&org) {
            Some(Slot::Ready(v)) => return Lookup::Ready(v.clone()),
            Some(Slot::Loading(token)) => return Lookup::Load(Ticket { org, token: *token }),
            None => {}
        }
        if self.capacity == 0 {
            return Lookup::NoRoom;
        }
        if self.map.len() >= self.capacity
            && let Some(victim) = self.map.keys().next().copied()
        {
            self.map.remove(&victim);
        }
        self.next += 1;
        self.map.insert(org, Slot::Loading(self.next));
        Lookup::Load(Ticket {
            org,
            token: self.next,
        })
    }

    /// Stores a load made under `ticket`, if nothing dropped the org's
    /// slot since the ticket was taken. Whether it was stored.
    pub fn finish(&mut self, ticket: Ticket, value: V) -> bool {
        match self.map.get_mut(&ticket.org) {
            Some(slot) if matches!(*slot, Slot::Loading(t) if t == ticket.token) => {
                *slot = Slot::Ready(value);
                true
            }
            _ => false,
        }
    }

    /// The org changed: its entry (or its loads in flight) must not be used.
    pub fn invalidate(&mut self, org: Uuid) {
        self.map.remove(&org);
    }

    /// Notifications may have been lost: nothing held may be used.
    pub fn clear(&mut self) {
        self.map.clear();
    }

    /// Orgs held or being loaded.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(l: Lookup<&'static str>) -> Ticket {
        match l {
            Lookup::Load(t) => t,
            other => panic!("expected a ticket, got {other:?}"),
        }
    }

    #[test]
    fn a_load_is_stored_and_then_answers() {
        let org = Uuid::from_u128(1);
        let mut slots = Slots::new(10);
        let t = ticket(slots.lookup(org));
        assert!(slots.finish(t, "set"));
        assert_eq!(slots.lookup(org), Lookup::Ready("set"));
    }

    /// The race the ticket exists for: the load read the database, the
    /// org changed, the notification was handled, then the load finished.
    #[test]
    fn a_load_that_a_notification_overtook_is_not_stored() {
        let org = Uuid::from_u128(1);
        let mut slots = Slots::new(10);
        let stale = ticket(slots.lookup(org));
        slots.invalidate(org);
        assert!(!slots.finish(stale, "stale"));
        assert!(
            matches!(slots.lookup(org), Lookup::Load(_)),
            "still not held"
        );
    }

    /// A marker made again after the notification is a new one: the old
    /// ticket does not match it, the new one does.
    #[test]
    fn a_ticket_from_before_a_notification_never_matches_a_later_load() {
        let org = Uuid::from_u128(1);
        let mut slots = Slots::new(10);
        let stale = ticket(slots.lookup(org));
        slots.invalidate(org);
        let fresh = ticket(slots.lookup(org));
        assert_ne!(stale, fresh);
        assert!(!slots.finish(stale, "stale"));
        assert!(slots.finish(fresh, "fresh"));
        assert_eq!(slots.lookup(org), Lookup::Ready("fresh"));
        assert!(!slots.finish(fresh, "again"), "a ticket stores once");
        assert_eq!(slots.lookup(org), Lookup::Ready("fresh"));
    }

    #[test]
    fn a_clear_drops_entries_and_loads_in_flight() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let mut slots = Slots::new(10);
        let ta = ticket(slots.lookup(a));
        assert!(slots.finish(ta, "a"));
        let tb = ticket(slots.lookup(b));
        slots.clear();
        assert_eq!(slots.len(), 0);
        assert!(!slots.finish(tb, "b"));
        assert!(matches!(slots.lookup(a), Lookup::Load(_)));
    }

    /// Concurrent misses share the marker: the first to finish stores, and
    /// a notification between still voids them all.
    #[test]
    fn concurrent_loads_share_one_marker() {
        let org = Uuid::from_u128(1);
        let mut slots = Slots::new(10);
        let first = ticket(slots.lookup(org));
        let second = ticket(slots.lookup(org));
        assert_eq!(first, second);
        assert!(slots.finish(second, "second"));
        assert!(!slots.finish(first, "first"));
        assert_eq!(slots.lookup(org), Lookup::Ready("second"));
    }

    #[test]
    fn the_number_of_orgs_is_bounded() {
        let mut slots = Slots::new(2);
        for i in 0..5 {
            let t = ticket(slots.lookup(Uuid::from_u128(i)));
            assert!(slots.finish(t, "set"));
            assert!(slots.len() <= 2);
        }
        assert!(matches!(
            slots.lookup(Uuid::from_u128(4)),
            Lookup::Ready("set")
        ));
        let mut none = Slots::<&str>::new(0);
        assert_eq!(none.lookup(Uuid::from_u128(1)), Lookup::NoRoom);
    }
}
