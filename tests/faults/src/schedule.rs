//! The fault schedule of a run: a small seeded generator, so a printed
//! seed replays the same faults, and a shuffled deck, so a run of at least
//! as many faults as there are kinds injects every kind.
use std::time::Duration;

/// xorshift64*: seeded, no dependency, the same sequence everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (0 is replaced: xorshift needs a bit set).
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform-ish in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// A duration in `from..to` milliseconds.
    pub fn millis(&mut self, from: u64, to: u64) -> Duration {
        Duration::from_millis(from + self.below(to.saturating_sub(from)))
    }
}

/// The seed of a run: `LIVEDESK_FAULTS_SEED` to replay one, else fresh.
pub fn seed_from_env() -> u64 {
    std::env::var("LIVEDESK_FAULTS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| uuid::Uuid::now_v7().as_u64_pair().1 | 1)
}

/// How long faults are injected: `LIVEDESK_FAULTS_SECONDS`, else `default`.
pub fn seconds_from_env(default: u64) -> u64 {
    std::env::var("LIVEDESK_FAULTS_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// The start of a fault run named `run`: its seed (replayable) and how
/// long faults are injected (`default_seconds` unless set), printed, and
/// the generator of its schedule.
pub fn start(run: &str, default_seconds: u64) -> (u64, u64, Rng) {
    let seed = seed_from_env();
    let seconds = seconds_from_env(default_seconds);
    println!(
        "[{run}] seed={seed} seconds={seconds} (LIVEDESK_FAULTS_SEED={seed} replays the schedule)"
    );
    (seed, seconds, Rng::new(seed))
}

/// Faults drawn from a deck: every kind once per round, in a seeded order.
#[derive(Debug, Clone)]
pub struct Deck<T> {
    kinds: Vec<T>,
    left: Vec<T>,
}

impl<T: Clone> Deck<T> {
    pub fn new(kinds: &[T]) -> Self {
        Self {
            kinds: kinds.to_vec(),
            left: Vec::new(),
        }
    }

    /// The next fault; a new shuffled round when the last is used up.
    pub fn draw(&mut self, rng: &mut Rng) -> Option<T> {
        if self.left.is_empty() {
            self.left = self.kinds.clone();
            for i in (1..self.left.len()).rev() {
                self.left.swap(i, rng.below(i as u64 + 1) as usize);
            }
        }
        self.left.pop()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_replays_its_schedule_and_each_round_deals_every_kind() {
        let draw = |seed| {
            let mut rng = Rng::new(seed);
            let mut deck = Deck::new(&[1, 2, 3, 4]);
            (0..8)
                .map(|_| deck.draw(&mut rng).unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(42), draw(42));
        let dealt = draw(7);
        for round in dealt.chunks(4) {
            let mut r = round.to_vec();
            r.sort();
            assert_eq!(r, vec![1, 2, 3, 4]);
        }
    }
}
