//! Conversation and request statuses, who ended a conversation, and who
//! wrote a message. The numbers are the protobuf enum values; the tables
//! store their labels (`labels`).

/// Status of a conversation (CNV-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Queued = 1,
    Active = 2,
    Paused = 3,
    Ended = 4,
    Blocked = 5,
}

impl Status {
    /// The statuses in which a conversation is "live" (CNV-2).
    pub const LIVE: [Status; 3] = [Status::Queued, Status::Active, Status::Paused];

    /// Parses the stored number.
    pub fn from_i32(n: i32) -> Option<Self> {
        Some(match n {
            1 => Status::Queued,
            2 => Status::Active,
            3 => Status::Paused,
            4 => Status::Ended,
            5 => Status::Blocked,
            _ => return None,
        })
    }

    /// Whether the conversation is still open (QUEUED, ACTIVE, PAUSED).
    pub fn is_live(self) -> bool {
        Self::LIVE.contains(&self)
    }
}

/// Who ended a conversation (CNV-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndedBy {
    Agent = 1,
    Customer = 2,
    Inactivity = 3,
    Admin = 4,
    ResourceDeleted = 5,
    System = 6,
}

/// Status of a request (CNV-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestStatus {
    Open = 1,
    Pending = 2,
    Closed = 3,
}

impl RequestStatus {
    /// The status chosen when ending (CNV-8): unspecified means CLOSED.
    pub fn at_end(n: i32) -> Option<Self> {
        Some(match n {
            0 | 3 => RequestStatus::Closed,
            1 => RequestStatus::Open,
            2 => RequestStatus::Pending,
            _ => return None,
        })
    }
}

/// The author of a message (CNV-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    Customer = 1,
    Agent = 2,
    System = 3,
    Bot = 4,
}

impl Author {
    /// Whether the author is on the support side (text rules of agents).
    pub fn is_staff_side(self) -> bool {
        matches!(self, Author::Agent | Author::Bot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_statuses_are_exactly_queued_active_paused() {
        for n in 0..7 {
            let live = Status::from_i32(n).is_some_and(Status::is_live);
            assert_eq!(live, (1..=3).contains(&n));
        }
    }

    // spec: CNV-8
    #[test]
    fn ending_closes_the_request_by_default() {
        assert_eq!(RequestStatus::at_end(0), Some(RequestStatus::Closed));
        assert_eq!(RequestStatus::at_end(2), Some(RequestStatus::Pending));
        assert_eq!(RequestStatus::at_end(9), None);
    }
}
