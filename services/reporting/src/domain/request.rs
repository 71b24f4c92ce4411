//! Parsed requests: a valid time range, export kind, grouping, and the
//! slice of the org a caller may see (RPT-5).
use chrono::{DateTime, Utc};
use livedesk_platform::errors::FieldViolation;

/// A half-open range `[from, to)`; an open end means unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Range {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl Range {
    /// Refuses an empty or inverted range.
    pub fn new(
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Self, FieldViolation> {
        match (from, to) {
            (Some(f), Some(t)) if f >= t => {
                Err(FieldViolation::new("range", "`from` must be before `to`"))
            }
            _ => Ok(Self { from, to }),
        }
    }
}

/// What to export (RPT-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Conversations,
    BlockedConversations,
    AgentActivity,
    FormSubmissions,
}

impl ExportKind {
    /// From the wire value of `livedesk.reporting.v1.ExportKind`.
    pub fn from_wire(value: i32) -> Result<Self, FieldViolation> {
        match value {
            1 => Ok(Self::Conversations),
            2 => Ok(Self::BlockedConversations),
            3 => Ok(Self::AgentActivity),
            4 => Ok(Self::FormSubmissions),
            _ => Err(FieldViolation::new(
                "kind",
                "must be CONVERSATIONS, BLOCKED_CONVERSATIONS, AGENT_ACTIVITY or FORM_SUBMISSIONS",
            )),
        }
    }
}

/// The dimension statistics are grouped by (RPT-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Nothing,
    Tag,
    Reason,
    Queue,
    Agent,
    Channel,
}

impl GroupBy {
    /// From the wire value of `livedesk.reporting.v1.GroupBy`.
    pub fn from_wire(value: i32) -> Result<Self, FieldViolation> {
        match value {
            0 => Ok(Self::Nothing),
            1 => Ok(Self::Tag),
            2 => Ok(Self::Reason),
            3 => Ok(Self::Queue),
            4 => Ok(Self::Agent),
            5 => Ok(Self::Channel),
            _ => Err(FieldViolation::new("group_by", "unknown grouping")),
        }
    }
}

/// Which part of its org a caller may see (RPT-5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Supervisors, admins and services: the whole org.
    Org,
    /// An agent: only the conversations they handled and their own activity.
    Agent(String),
}

impl Scope {
    /// The agent id to filter on, when there is one.
    pub fn agent(&self) -> Option<&str> {
        match self {
            Scope::Org => None,
            Scope::Agent(id) => Some(id),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ranges_must_not_be_empty_or_inverted() {
        let a = Utc.timestamp_opt(1_700_000_000, 0).single();
        let b = Utc.timestamp_opt(1_700_000_100, 0).single();
        assert!(Range::new(a, b).is_ok());
        assert!(Range::new(None, b).is_ok());
        assert_eq!(Range::new(b, a).unwrap_err().field, "range");
        assert!(Range::new(a, a).is_err());
    }

    #[test]
    fn unknown_wire_values_are_refused() {
        assert_eq!(ExportKind::from_wire(0).unwrap_err().field, "kind");
        assert_eq!(
            ExportKind::from_wire(2).unwrap(),
            ExportKind::BlockedConversations
        );
        assert_eq!(GroupBy::from_wire(0).unwrap(), GroupBy::Nothing);
        assert_eq!(GroupBy::from_wire(9).unwrap_err().field, "group_by");
    }
}
