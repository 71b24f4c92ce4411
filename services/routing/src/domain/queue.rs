//! Queue settings (RTG-3): name, strategy, offer timeout, skills, max wait.
use livedesk_platform::errors::FieldViolation;

use super::TransferFailurePolicy;

/// How a queue picks among eligible agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// The agent idle the longest (oldest `idle_since`) — the default.
    LongestIdle = 1,
    /// The agent with the lowest load, then longest idle.
    LeastBusy = 2,
    /// The agent offered to least recently.
    RoundRobin = 3,
}

livedesk_platform::stored_enum!(Strategy {
    LongestIdle => "longest_idle",
    LeastBusy => "least_busy",
    RoundRobin => "round_robin",
});

impl Strategy {
    /// Wire value to strategy; UNSPECIFIED = the default. Requests are
    /// checked first ([`QueueSpec::parse`] refuses unknown numbers).
    pub fn from_i32(v: i32) -> Self {
        match v {
            2 => Self::LeastBusy,
            3 => Self::RoundRobin,
            _ => Self::LongestIdle,
        }
    }

    /// The wire value.
    pub fn as_i32(self) -> i32 {
        self as i32
    }
}

/// A queue name: 1 to 100 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueName(String);

impl QueueName {
    /// Trims and checks the length.
    pub fn parse(raw: &str) -> Result<Self, FieldViolation> {
        let r = raw.trim();
        match r.chars().count() {
            0 => Err(FieldViolation::new("queue.name", "must not be empty")),
            n if n > 100 => Err(FieldViolation::new("queue.name", "at most 100 characters")),
            _ => Ok(Self(r.to_owned())),
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Seconds an agent has to answer an offer: 7 to 120, default 20.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfferTimeout(u32);

impl OfferTimeout {
    /// The default.
    pub const DEFAULT: OfferTimeout = OfferTimeout(20);

    /// 0 means the default.
    pub fn parse(v: u32) -> Result<Self, FieldViolation> {
        match v {
            0 => Ok(Self::DEFAULT),
            7..=120 => Ok(Self(v)),
            _ => Err(FieldViolation::new(
                "queue.offer_timeout_seconds",
                "must be 7 to 120 seconds",
            )),
        }
    }

    /// Seconds.
    pub fn seconds(self) -> u32 {
        self.0
    }
}

/// Maximum wait in the queue before routing abandons (RTG-13): 60 s to
/// 7 days, default 24 h.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxWait(u32);

impl MaxWait {
    /// The default (task TTL).
    pub const DEFAULT: MaxWait = MaxWait(86_400);

    /// 0 means the default.
    pub fn parse(v: u32) -> Result<Self, FieldViolation> {
        match v {
            0 => Ok(Self::DEFAULT),
            60..=604_800 => Ok(Self(v)),
            _ => Err(FieldViolation::new(
                "queue.max_wait_seconds",
                "must be 60 to 604800 seconds",
            )),
        }
    }

    /// Seconds.
    pub fn seconds(self) -> u32 {
        self.0
    }
}

/// A validated queue definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSpec {
    pub name: QueueName,
    pub strategy: Strategy,
    pub offer_timeout: OfferTimeout,
    pub required_skills: Vec<String>,
    pub max_wait: MaxWait,
    pub transfer_failure_policy: TransferFailurePolicy,
    pub offer_form_after_seconds: u32,
}

impl QueueSpec {
    /// Validates every field at once, reporting all violations.
    pub fn parse(
        name: &str,
        strategy: i32,
        offer_timeout_seconds: u32,
        required_skills: &[String],
        max_wait_seconds: u32,
        transfer_failure_policy: i32,
        offer_form_after_seconds: u32,
    ) -> Result<Self, Vec<FieldViolation>> {
        let mut v = Vec::new();
        let name = QueueName::parse(name).map_err(|e| v.push(e)).ok();
        if !(0..=3).contains(&strategy) {
            v.push(FieldViolation::new(
                "queue.strategy",
                "unknown routing strategy",
            ));
        }
        let offer_timeout = OfferTimeout::parse(offer_timeout_seconds)
            .map_err(|e| v.push(e))
            .ok();
        let max_wait = MaxWait::parse(max_wait_seconds).map_err(|e| v.push(e)).ok();
        let required_skills = normalize_skills(required_skills, "queue.required_skills")
            .map_err(|e| v.push(e))
            .ok();
        let policy = match transfer_failure_policy {
            0 | 1 => TransferFailurePolicy::Requeue,
            2 => TransferFailurePolicy::Abandon,
            _ => {
                v.push(FieldViolation::new(
                    "queue.transfer_failure_policy",
                    "unknown policy",
                ));
                TransferFailurePolicy::Requeue
            }
        };
        if offer_form_after_seconds > 86_400 {
            v.push(FieldViolation::new(
                "queue.offer_form_after_seconds",
                "at most 86400",
            ));
        }
        match (name, offer_timeout, max_wait, required_skills) {
            (Some(name), Some(offer_timeout), Some(max_wait), Some(required_skills))
                if v.is_empty() =>
            {
                Ok(Self {
                    name,
                    strategy: Strategy::from_i32(strategy),
                    offer_timeout,
                    required_skills,
                    max_wait,
                    transfer_failure_policy: policy,
                    offer_form_after_seconds,
                })
            }
            _ => Err(v),
        }
    }
}

/// Skills: trimmed, lowercase, deduplicated, each 1..=50 characters, at
/// most 50 of them.
pub fn normalize_skills(raw: &[String], field: &str) -> Result<Vec<String>, FieldViolation> {
    if raw.len() > 50 {
        return Err(FieldViolation::new(field, "at most 50 skills"));
    }
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for s in raw {
        let s = s.trim().to_lowercase();
        if s.is_empty() || s.chars().count() > 50 {
            return Err(FieldViolation::new(
                field,
                "each skill is 1 to 50 characters",
            ));
        }
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    // spec: RTG-3
    #[test]
    fn queue_defaults_and_every_bad_field_is_reported() {
        let q = QueueSpec::parse("Sales", 0, 0, &[], 0, 0, 0).unwrap();
        assert_eq!(q.strategy, Strategy::LongestIdle);
        assert_eq!(q.offer_timeout.seconds(), 20);
        assert_eq!(q.max_wait.seconds(), 86_400);
        assert_eq!(q.transfer_failure_policy, TransferFailurePolicy::Requeue);
        let err = QueueSpec::parse(" ", 9, 6, &["".into()], 5, 7, 0).unwrap_err();
        let fields: Vec<_> = err.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "queue.name",
                "queue.strategy",
                "queue.offer_timeout_seconds",
                "queue.max_wait_seconds",
                "queue.required_skills",
                "queue.transfer_failure_policy"
            ]
        );
        assert!(OfferTimeout::parse(121).is_err());
        assert_eq!(OfferTimeout::parse(7).unwrap().seconds(), 7);
        assert_eq!(
            normalize_skills(&["FR".into(), "fr ".into(), "billing".into()], "s").unwrap(),
            ["billing", "fr"]
        );
    }
}
