//! Choosing the agent for an offer (RTG-2, RTG-3, RTG-5, RTG-14).
//!
//! The store loads candidates with their current load; these functions
//! decide who is eligible and in which order to try them. The store then
//! locks the chosen agent and re-checks [`is_eligible`] on fresh data, so
//! the decision holds under concurrency (RTG-6).
use chrono::{DateTime, Utc};

use super::{AgentState, Strategy};

/// An agent as routing sees them for one queued conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub agent_id: String,
    pub state: Option<AgentState>,
    /// A "next state" is pending (RTG-14): no new offers.
    pub has_next_state: bool,
    /// Member of the conversation's queue.
    pub member: bool,
    pub skills: Vec<String>,
    /// Pending offers + active legs + legs in wrap-up (RTG-2).
    pub load: u32,
    pub capacity: u32,
    pub idle_since: DateTime<Utc>,
    pub last_offered_at: Option<DateTime<Utc>>,
    /// Already declined or let this conversation's offer expire (RTG-5).
    pub excluded: bool,
}

/// Whether `c` may receive an offer for a conversation of a queue that
/// requires `required_skills`.
pub fn is_eligible(c: &Candidate, required_skills: &[String]) -> bool {
    c.state == Some(AgentState::Available)
        && !c.has_next_state
        && c.member
        && !c.excluded
        && c.load < c.capacity
        && required_skills.iter().all(|s| c.skills.contains(s))
}

/// The eligible candidates, best first, per the queue's strategy. Ties
/// break on the agent id so every replica agrees.
pub fn rank<'a>(
    strategy: Strategy,
    candidates: &'a [Candidate],
    required_skills: &[String],
) -> Vec<&'a Candidate> {
    let mut out: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| is_eligible(c, required_skills))
        .collect();
    match strategy {
        Strategy::LongestIdle => out.sort_by(|a, b| {
            a.idle_since
                .cmp(&b.idle_since)
                .then_with(|| a.agent_id.cmp(&b.agent_id))
        }),
        Strategy::LeastBusy => out.sort_by(|a, b| {
            a.load
                .cmp(&b.load)
                .then_with(|| a.idle_since.cmp(&b.idle_since))
                .then_with(|| a.agent_id.cmp(&b.agent_id))
        }),
        // Never offered sorts first (None < Some).
        Strategy::RoundRobin => out.sort_by(|a, b| {
            a.last_offered_at
                .cmp(&b.last_offered_at)
                .then_with(|| a.agent_id.cmp(&b.agent_id))
        }),
    }
    out
}

/// [`rank`], with a resumed conversation's preferred agent first when
/// that agent is eligible (CNV-12); otherwise the strategy decides.
pub fn rank_preferring<'a>(
    strategy: Strategy,
    candidates: &'a [Candidate],
    required_skills: &[String],
    preferred: Option<&str>,
) -> Vec<&'a Candidate> {
    let mut ranked = rank(strategy, candidates, required_skills);
    if let Some(p) = preferred
        && let Some(i) = ranked.iter().position(|c| c.agent_id == p)
    {
        let c = ranked.remove(i);
        ranked.insert(0, c);
    }
    ranked
}

/// Whether `c` may receive a direct offer (a transfer or a conference
/// invitation, RTG-7/RTG-8): AVAILABLE, no pending next state, below
/// capacity. Queue membership and skills do not matter: the owner chose
/// this agent.
pub fn can_take_direct_offer(c: &Candidate) -> bool {
    c.state == Some(AgentState::Available) && !c.has_next_state && c.load < c.capacity
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::Duration;
    use proptest::prelude::*;

    use super::*;

    fn agent(id: &str, idle_secs_ago: i64, load: u32) -> Candidate {
        Candidate {
            agent_id: id.into(),
            state: Some(AgentState::Available),
            has_next_state: false,
            member: true,
            skills: vec![],
            load,
            capacity: 4,
            idle_since: Utc::now() - Duration::seconds(idle_secs_ago),
            last_offered_at: None,
            excluded: false,
        }
    }

    // spec: RTG-3
    #[test]
    fn longest_idle_least_busy_and_round_robin_order() {
        let now = Utc::now();
        let mut a = agent("a", 10, 3);
        let mut b = agent("b", 100, 2);
        let mut c = agent("c", 50, 0);
        a.last_offered_at = None;
        b.last_offered_at = Some(now - Duration::seconds(5));
        c.last_offered_at = Some(now - Duration::seconds(60));
        let all = [a, b, c];
        let ids = |v: Vec<&Candidate>| v.iter().map(|c| c.agent_id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(rank(Strategy::LongestIdle, &all, &[])), ["b", "c", "a"]);
        assert_eq!(ids(rank(Strategy::LeastBusy, &all, &[])), ["c", "b", "a"]);
        assert_eq!(ids(rank(Strategy::RoundRobin, &all, &[])), ["a", "c", "b"]);
    }

    // spec: RTG-2
    #[test]
    fn only_available_members_below_capacity_with_skills_get_offers() {
        let base = agent("a", 1, 0);
        assert!(is_eligible(&base, &[]));
        assert!(
            !is_eligible(
                &Candidate {
                    load: 4,
                    ..base.clone()
                },
                &[]
            ),
            "at capacity"
        );
        assert!(!is_eligible(
            &Candidate {
                state: Some(AgentState::Away),
                ..base.clone()
            },
            &[]
        ));
        assert!(!is_eligible(
            &Candidate {
                state: Some(AgentState::Offline),
                ..base.clone()
            },
            &[]
        ));
        assert!(!is_eligible(
            &Candidate {
                member: false,
                ..base.clone()
            },
            &[]
        ));
        assert!(!is_eligible(&base, &["fr".to_string()]), "missing skill");
        assert!(is_eligible(
            &Candidate {
                skills: vec!["fr".into(), "de".into()],
                ..base.clone()
            },
            &["fr".to_string()]
        ));
    }

    // spec: RTG-5
    #[test]
    fn rona_agents_and_agents_who_let_this_offer_go_are_skipped() {
        let base = agent("a", 1, 0);
        assert!(!is_eligible(
            &Candidate {
                state: Some(AgentState::Rona),
                ..base.clone()
            },
            &[]
        ));
        assert!(!is_eligible(
            &Candidate {
                excluded: true,
                ..base.clone()
            },
            &[]
        ));
    }

    // spec: RTG-14
    #[test]
    fn an_agent_with_a_pending_next_state_gets_no_new_offers() {
        assert!(!is_eligible(
            &Candidate {
                has_next_state: true,
                ..agent("a", 1, 0)
            },
            &[]
        ));
    }

    fn arb_candidate() -> impl proptest::strategy::Strategy<Value = Candidate> {
        (
            "[a-e]{1,3}",
            prop_oneof![Just(None), (1..=4i32).prop_map(AgentState::from_i32)],
            any::<bool>(),
            any::<bool>(),
            proptest::collection::vec(
                prop_oneof![Just("fr".to_string()), Just("de".to_string())],
                0..3,
            ),
            0u32..30,
            1u32..26,
            0i64..10_000,
            proptest::option::of(0i64..10_000),
            any::<bool>(),
        )
            .prop_map(
                |(id, state, next, member, skills, load, capacity, idle, offered, excluded)| {
                    Candidate {
                        agent_id: id,
                        state,
                        has_next_state: next,
                        member,
                        skills,
                        load,
                        capacity,
                        idle_since: DateTime::from_timestamp(1_700_000_000 + idle, 0)
                            .unwrap_or_default(),
                        last_offered_at: offered
                            .and_then(|o| DateTime::from_timestamp(1_700_000_000 + o, 0)),
                        excluded,
                    }
                },
            )
    }

    // spec: CNV-12
    #[test]
    fn the_preferred_agent_goes_first_only_when_eligible() {
        let all = [agent("a", 100, 0), agent("b", 10, 0)];
        let ids = |v: Vec<&Candidate>| v.iter().map(|c| c.agent_id.clone()).collect::<Vec<_>>();
        assert_eq!(
            ids(rank_preferring(Strategy::LongestIdle, &all, &[], Some("b"))),
            ["b", "a"]
        );
        let full = [agent("a", 100, 0), agent("b", 10, 4)];
        assert_eq!(
            ids(rank_preferring(
                Strategy::LongestIdle,
                &full,
                &[],
                Some("b")
            )),
            ["a"],
            "at capacity: the strategy decides"
        );
    }

    // spec: RTG-7, RTG-8
    #[test]
    fn direct_offers_need_available_and_free_capacity_not_membership() {
        let base = Candidate {
            member: false,
            ..agent("a", 1, 0)
        };
        assert!(can_take_direct_offer(&base));
        assert!(!can_take_direct_offer(&Candidate {
            load: 4,
            ..base.clone()
        }));
        assert!(!can_take_direct_offer(&Candidate {
            state: Some(AgentState::Away),
            ..base.clone()
        }));
        assert!(!can_take_direct_offer(&Candidate {
            has_next_state: true,
            ..base
        }));
    }

    use proptest::strategy::Strategy as _;
    type Strategy = super::Strategy;

    proptest! {
        // spec: RTG-2, RTG-6
        #[test]
        fn never_selects_an_ineligible_agent_or_one_over_capacity(
            cands in proptest::collection::vec(arb_candidate(), 0..12),
            strategy in 1..=3i32,
            need_fr in any::<bool>(),
        ) {
            let required: Vec<String> = if need_fr { vec!["fr".into()] } else { vec![] };
            let ranked = rank(Strategy::from_i32(strategy), &cands, &required);
            for c in &ranked {
                prop_assert_eq!(c.state, Some(AgentState::Available));
                prop_assert!(c.load < c.capacity);
                prop_assert!(c.member && !c.excluded && !c.has_next_state);
                prop_assert!(required.iter().all(|s| c.skills.contains(s)));
            }
            let eligible = cands.iter().filter(|c| is_eligible(c, &required)).count();
            prop_assert_eq!(ranked.len(), eligible, "every eligible agent is ranked");
        }

        // spec: RTG-6, CNV-12
        #[test]
        fn preferring_an_agent_only_reorders_the_eligible(
            cands in proptest::collection::vec(arb_candidate(), 0..12),
            strategy in 1..=3i32,
            preferred in "[a-e]{1,3}",
        ) {
            let plain = rank(Strategy::from_i32(strategy), &cands, &[]);
            let pref = rank_preferring(Strategy::from_i32(strategy), &cands, &[], Some(&preferred));
            prop_assert_eq!(plain.len(), pref.len());
            for c in &pref {
                prop_assert!(is_eligible(c, &[]));
            }
            if plain.iter().any(|c| c.agent_id == preferred) {
                prop_assert_eq!(&pref[0].agent_id, &preferred);
            } else {
                prop_assert_eq!(plain, pref);
            }
        }
    }
}
