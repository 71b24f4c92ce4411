//! Queue position and estimated wait (RTG-15).
//!
//! The estimate is the queue's recent pace: with `n` conversations of the
//! queue assigned in the last `window` seconds, one assignment happens
//! every `window / n` seconds, so the customer at position `p` waits about
//! `ceil(p × window / n)` seconds. Unknown (no assignment in the window)
//! answers 0, which clients show as "no estimate".
/// Positions up to this one are pushed on every change.
pub const EXACT_POSITIONS: u32 = 20;

/// Whether a customer told `last` should be told `now` (RTG-15): every
/// change near the head of the queue, and further back a change of at
/// least a tenth, so a long queue moving fast costs each customer a few
/// events rather than one per assignment ahead of them.
pub fn should_push(last: Option<u32>, now: u32) -> bool {
    match last {
        None => true,
        Some(l) if l == now => false,
        Some(l) => now <= EXACT_POSITIONS || l.abs_diff(now) * 10 >= l,
    }
}

/// The throughput window: assignments of the last 15 minutes.
pub const THROUGHPUT_WINDOW_SECONDS: u32 = 900;

/// Estimated wait of the customer at `position` (1 = next) when the queue
/// assigned `assignments` conversations in the last `window_seconds`.
pub fn estimate_wait(position: u32, assignments: u32, window_seconds: u32) -> u32 {
    if position == 0 || assignments == 0 {
        return 0;
    }
    let total = u64::from(position) * u64::from(window_seconds);
    u32::try_from(total.div_ceil(u64::from(assignments))).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    // spec: RTG-15
    #[test]
    fn estimate_follows_recent_throughput_and_is_zero_when_unknown() {
        // 30 assignments in 15 minutes: one every 30 s.
        assert_eq!(estimate_wait(1, 30, 900), 30);
        assert_eq!(estimate_wait(4, 30, 900), 120);
        assert_eq!(estimate_wait(1, 7, 900), 129, "rounded up");
        assert_eq!(estimate_wait(3, 0, 900), 0, "no recent assignment");
        assert_eq!(estimate_wait(0, 10, 900), 0);
    }

    // spec: RTG-15
    #[test]
    fn pushes_every_change_near_the_head_and_tenths_further_back() {
        assert!(should_push(None, 300));
        assert!(!should_push(Some(5), 5));
        assert!(should_push(Some(6), 5));
        assert!(should_push(Some(21), 20), "entering the exact zone");
        assert!(!should_push(Some(300), 299));
        assert!(should_push(Some(300), 270));
        assert!(
            should_push(Some(300), 330),
            "moving back (a higher priority arrived)"
        );
    }

    proptest! {
        // spec: RTG-15
        #[test]
        fn a_customer_moving_to_the_head_hears_a_bounded_number_of_pushes(start in 1u32..100_000) {
            let (mut last, mut pushes) = (None, 0u32);
            for p in (1..=start).rev() {
                if should_push(last, p) {
                    last = Some(p);
                    pushes += 1;
                }
            }
            prop_assert_eq!(last, Some(1), "the head is always told");
            // 20 exact ones plus about log(start/20)/log(10/9) steps.
            prop_assert!(pushes <= EXACT_POSITIONS + 1 + 10 * (32 - start.leading_zeros()));
        }

        // spec: RTG-15
        #[test]
        fn estimate_grows_with_position_and_shrinks_with_throughput(
            p in 1u32..10_000, n in 1u32..10_000,
        ) {
            prop_assert!(estimate_wait(p + 1, n, 900) >= estimate_wait(p, n, 900));
            prop_assert!(estimate_wait(p, n + 1, 900) <= estimate_wait(p, n, 900));
        }
    }
}
