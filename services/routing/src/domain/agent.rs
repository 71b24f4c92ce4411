//! Agents (RTG-1): states, who may change them (RTG-5), "next state"
//! (RTG-14), display names, initials and capacity.
use livedesk_platform::errors::FieldViolation;

/// An agent's routing state. The numeric values are the wire values of
/// `livedesk.routing.v1.AgentState`, also stored in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgentState {
    Offline = 1,
    Available = 2,
    Away = 3,
    Rona = 4,
}

livedesk_platform::stored_enum!(AgentState {
    Offline => "offline",
    Available => "available",
    Away => "away",
    Rona => "rona",
});

impl AgentState {
    /// Parses a wire value; `None` for UNSPECIFIED or unknown.
    pub fn from_i32(v: i32) -> Option<Self> {
        match v {
            1 => Some(Self::Offline),
            2 => Some(Self::Available),
            3 => Some(Self::Away),
            4 => Some(Self::Rona),
            _ => None,
        }
    }

    /// The wire value.
    pub fn as_i32(self) -> i32 {
        self as i32
    }
}

/// An optional reason code for AWAY: at most 100 characters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AwayReason(String);

impl AwayReason {
    /// Trims and checks the length.
    pub fn parse(raw: &str) -> Result<Self, FieldViolation> {
        let r = raw.trim();
        if r.chars().count() > 100 {
            return Err(FieldViolation::new("away_reason", "at most 100 characters"));
        }
        Ok(Self(r.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A validated state change: the state to apply and its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    pub to: AgentState,
    /// Only kept for AWAY; empty otherwise.
    pub away_reason: AwayReason,
}

/// Checks a requested state change (RTG-1, RTG-5). RONA is never
/// requested: only an unanswered offer puts an agent there; leaving RONA
/// is an ordinary change to AVAILABLE (by the agent or a supervisor).
pub fn plan_state_change(requested: i32, away_reason: &str) -> Result<StateChange, FieldViolation> {
    let to = match AgentState::from_i32(requested) {
        None => {
            return Err(FieldViolation::new(
                "state",
                "must be OFFLINE, AVAILABLE or AWAY",
            ));
        }
        Some(AgentState::Rona) => {
            return Err(FieldViolation::new(
                "state",
                "RONA is set by routing when an offer is not answered",
            ));
        }
        Some(s) => s,
    };
    let away_reason = if to == AgentState::Away {
        AwayReason::parse(away_reason)?
    } else {
        AwayReason::default()
    };
    Ok(StateChange { to, away_reason })
}

/// The state an agent asks to enter once their last conversation is
/// wrapped up (RTG-14): OFFLINE or AWAY; `None` clears it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextState(pub Option<StateChange>);

impl NextState {
    /// Parses the wire value (UNSPECIFIED = clear).
    pub fn parse(requested: i32, away_reason: &str) -> Result<Self, FieldViolation> {
        match AgentState::from_i32(requested) {
            None if requested == 0 => Ok(Self(None)),
            Some(to @ (AgentState::Offline | AgentState::Away)) => {
                let away_reason = if to == AgentState::Away {
                    AwayReason::parse(away_reason)?
                } else {
                    AwayReason::default()
                };
                Ok(Self(Some(StateChange { to, away_reason })))
            }
            _ => Err(FieldViolation::new(
                "next_state",
                "must be OFFLINE, AWAY or UNSPECIFIED (to clear it)",
            )),
        }
    }
}

/// A display name: 1 to 100 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Trims and checks the length.
    pub fn parse(raw: &str) -> Result<Self, FieldViolation> {
        let r = raw.trim();
        match r.chars().count() {
            0 => Err(FieldViolation::new("display_name", "must not be empty")),
            n if n > 100 => Err(FieldViolation::new(
                "display_name",
                "at most 100 characters",
            )),
            _ => Ok(Self(r.to_owned())),
        }
    }

    /// The first usable name of: the request, the token's `name`, the id
    /// (TEN-1: an agent registers with no configuration).
    pub fn first_of(candidates: &[&str]) -> Self {
        candidates
            .iter()
            .find_map(|c| Self::parse(c).ok())
            .unwrap_or_else(|| Self("Agent".to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Initials shown in the chat (1 to 3 characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Initials(String);

impl Initials {
    /// Uses `raw` when given (1..=3 characters), else derives from the name.
    pub fn parse_or_derive(raw: &str, name: &DisplayName) -> Result<Self, FieldViolation> {
        let r = raw.trim();
        match r.chars().count() {
            0 => Ok(initials_of(name.as_str())),
            n if n > 3 => Err(FieldViolation::new("initials", "at most 3 characters")),
            _ => Ok(Self(r.to_uppercase())),
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Derives initials: first letter of the first and last words ("Ada
/// Lovelace" → "AL"), or of the single word ("ada" → "A").
pub fn initials_of(name: &str) -> Initials {
    let words: Vec<&str> = name
        .split(|c: char| c.is_whitespace() || c == '.' || c == '@')
        .filter(|w| !w.is_empty())
        .collect();
    let first = |w: &str| {
        w.chars()
            .find(|c| c.is_alphanumeric())
            .map(|c| c.to_uppercase().collect::<String>())
    };
    let mut out = String::new();
    if let Some(f) = words.first().and_then(|w| first(w)) {
        out.push_str(&f);
    }
    if words.len() > 1
        && let Some(l) = words.last().and_then(|w| first(w))
    {
        out.push_str(&l);
    }
    if out.is_empty() {
        out.push('?');
    }
    Initials(out)
}

/// Concurrent chat capacity: 1 to 25, default 4 (RTG-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity(u32);

impl Capacity {
    /// The default chat capacity.
    pub const DEFAULT: Capacity = Capacity(4);
    /// The maximum.
    pub const MAX: u32 = 25;

    /// The capacity `v` when in range (usable in constants).
    pub const fn new(v: u32) -> Option<Self> {
        if v == 0 || v > Self::MAX {
            None
        } else {
            Some(Self(v))
        }
    }

    /// Checks the range.
    pub fn parse(v: u32) -> Result<Self, FieldViolation> {
        if v == 0 || v > Self::MAX {
            return Err(FieldViolation::new(
                "capacities",
                format!("capacity must be 1 to {}", Self::MAX),
            ));
        }
        Ok(Self(v))
    }

    /// The number.
    pub fn get(self) -> u32 {
        self.0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    // spec: RTG-1
    #[test]
    fn states_parse_and_rona_cannot_be_requested() {
        assert_eq!(plan_state_change(2, "").unwrap().to, AgentState::Available);
        assert!(plan_state_change(0, "").is_err());
        assert!(plan_state_change(4, "").is_err());
        let away = plan_state_change(3, " lunch ").unwrap();
        assert_eq!(away.away_reason.as_str(), "lunch");
        assert_eq!(
            plan_state_change(1, "lunch").unwrap().away_reason.as_str(),
            "",
            "reason only for AWAY"
        );
        assert!(plan_state_change(3, &"x".repeat(101)).is_err());
    }

    // spec: RTG-14
    #[test]
    fn next_state_is_offline_away_or_cleared() {
        assert_eq!(NextState::parse(0, "").unwrap(), NextState(None));
        assert_eq!(
            NextState::parse(1, "").unwrap().0.unwrap().to,
            AgentState::Offline
        );
        assert!(NextState::parse(2, "").is_err());
        assert!(NextState::parse(4, "").is_err());
    }

    // spec: RTG-1
    #[test]
    fn initials_and_capacity() {
        assert_eq!(initials_of("Ada Lovelace").as_str(), "AL");
        assert_eq!(initials_of("ada").as_str(), "A");
        assert_eq!(initials_of("  ").as_str(), "?");
        assert_eq!(initials_of("Jean de la Fontaine").as_str(), "JF");
        let n = DisplayName::parse("Grace Hopper").unwrap();
        assert_eq!(Initials::parse_or_derive("", &n).unwrap().as_str(), "GH");
        assert_eq!(
            Initials::parse_or_derive("gmh", &n).unwrap().as_str(),
            "GMH"
        );
        assert!(Initials::parse_or_derive("abcd", &n).is_err());
        assert_eq!(
            DisplayName::first_of(&["", " ", "agent-7"]).as_str(),
            "agent-7"
        );
        assert!(Capacity::parse(0).is_err());
        assert!(Capacity::parse(26).is_err());
        assert_eq!(Capacity::parse(25).unwrap().get(), 25);
    }
}
