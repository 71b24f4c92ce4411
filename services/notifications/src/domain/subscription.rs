//! Where a `Subscribe` stream starts in the caller's feed (NTF-1).
use livedesk_platform::errors::FieldViolation;

/// The parsed start of a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAt {
    /// Only notifications created from now on.
    Now,
    /// Everything still retained.
    Everything,
    /// Resume after the last sequence the client saw.
    After(i64),
}

impl StartAt {
    /// Parses `after_sequence` / `replay_all`. Both at once is ambiguous
    /// and refused rather than guessed.
    pub fn parse(after_sequence: u64, replay_all: bool) -> Result<Self, FieldViolation> {
        match (after_sequence, replay_all) {
            (0, false) => Ok(Self::Now),
            (0, true) => Ok(Self::Everything),
            (_, true) => Err(FieldViolation::new(
                "replay_all",
                "only with after_sequence 0; to resume, pass after_sequence alone",
            )),
            (n, false) => i64::try_from(n)
                .map(Self::After)
                .map_err(|_| FieldViolation::new("after_sequence", "out of range")),
        }
    }

    /// The sequence to read after, given the feed's last sequence; a
    /// sequence the feed never reached is the client's mistake (another
    /// principal's, or corrupted) and is refused.
    pub fn resolve(self, last_seq: i64) -> Result<i64, FieldViolation> {
        match self {
            Self::Now => Ok(last_seq),
            Self::Everything => Ok(0),
            Self::After(n) if n > last_seq => Err(FieldViolation::new(
                "after_sequence",
                "is ahead of this feed",
            )),
            Self::After(n) => Ok(n),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    // spec: NTF-1
    #[test]
    fn start_points() {
        assert_eq!(StartAt::parse(0, false).unwrap().resolve(7).unwrap(), 7);
        assert_eq!(StartAt::parse(0, true).unwrap().resolve(7).unwrap(), 0);
        assert_eq!(StartAt::parse(3, false).unwrap().resolve(7).unwrap(), 3);
        assert_eq!(StartAt::parse(7, false).unwrap().resolve(7).unwrap(), 7);
        assert!(StartAt::parse(8, false).unwrap().resolve(7).is_err());
        assert!(StartAt::parse(3, true).is_err());
        assert!(StartAt::parse(u64::MAX, false).is_err());
    }
}
