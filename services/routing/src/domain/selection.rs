//! Choosing the agent for an offer (RTG-2, RTG-3, RTG-5, RTG-14).
//!
//! The store loads candidates with their current load; these functions
//! decide who is eligible and in which order to try them. The store then
//! locks the chosen agent and re-checks [`is_eligible`] on fresh data, so
//! the decision holds under concurrency (RTG-6).
use chrono::{DateTime, Utc};

use super::{AgentState, CHANNELS, Channel, PerChannel, Strategy, has_room, is_full};

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
    /// Pending offers + active legs + legs in wrap-up, per channel of
    /// their conversations (RTG-2).
    pub loads: PerChannel,
    /// Capacity per channel, defaults resolved (RTG-1).
    pub capacities: PerChannel,
    pub idle_since: DateTime<Utc>,
    pub last_offered_at: Option<DateTime<Utc>>,
    /// Already declined or let this conversation's offer expire (RTG-5).
    pub excluded: bool,
}

impl Candidate {
    /// Whether one more conversation of `channel` fits (RTG-2).
    pub fn has_room(&self, channel: Channel) -> bool {
        has_room(&self.loads, &self.capacities, channel)
    }

    /// Full on every channel: no conversation of any channel fits.
    pub fn is_full(&self) -> bool {
        is_full(&self.loads, &self.capacities)
    }

    /// Conversations held on every channel together (least-busy order).
    pub fn total_load(&self) -> u32 {
        self.loads.iter().fold(0u32, |a, l| a.saturating_add(*l))
    }

    /// Counts one more conversation of `channel` (an offer just made).
    pub fn add_load(&mut self, channel: Channel) {
        let slot = &mut self.loads[channel.index()];
        *slot = slot.saturating_add(1);
    }
}

/// A load array from per-channel counts as read from the database.
pub fn loads_from(values: &[i64]) -> PerChannel {
    let mut out = [0; CHANNELS];
    for (slot, v) in out.iter_mut().zip(values) {
        *slot = u32::try_from(*v).unwrap_or(u32::MAX);
    }
    out
}

/// Whether `c` may receive an offer for a conversation of `channel` in a
/// queue that requires `required_skills`.
pub fn is_eligible(c: &Candidate, channel: Channel, required_skills: &[String]) -> bool {
    c.state == Some(AgentState::Available)
        && !c.has_next_state
        && c.member
        && !c.excluded
        && c.has_room(channel)
        && required_skills.iter().all(|s| c.skills.contains(s))
}

/// The eligible candidates, best first, per the queue's strategy. Ties
/// break on the agent id so every replica agrees.
pub fn rank<'a>(
    strategy: Strategy,
    candidates: &'a [Candidate],
    channel: Channel,
    required_skills: &[String],
) -> Vec<&'a Candidate> {
    let mut out: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| is_eligible(c, channel, required_skills))
        .collect();
    match strategy {
        Strategy::LongestIdle => out.sort_by(|a, b| {
            a.idle_since
                .cmp(&b.idle_since)
                .then_with(|| a.agent_id.cmp(&b.agent_id))
        }),
        Strategy::LeastBusy => out.sort_by(|a, b| {
            a.total_load()
                .cmp(&b.total_load())
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
    channel: Channel,
    required_skills: &[String],
    preferred: Option<&str>,
) -> Vec<&'a Candidate> {
    let mut ranked = rank(strategy, candidates, channel, required_skills);
    if let Some(p) = preferred
        && let Some(i) = ranked.iter().position(|c| c.agent_id == p)
    {
        let c = ranked.remove(i);
        ranked.insert(0, c);
    }
    ranked
}

/// Whether `c` may receive a direct offer (a transfer or a conference
/// invitation, RTG-7/RTG-8) for a conversation of `channel`: AVAILABLE,
/// no pending next state, below capacity on that channel. Queue
/// membership and skills do not matter: the owner chose this agent.
pub fn can_take_direct_offer(c: &Candidate, channel: Channel) -> bool {
    c.state == Some(AgentState::Available) && !c.has_next_state && c.has_room(channel)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::Duration;
    use proptest::prelude::*;

    use super::*;

    const W: Channel = Channel::WebChat;

    fn eligible(c: &Candidate, required_skills: &[String]) -> bool {
        is_eligible(c, W, required_skills)
    }

    fn can_take_direct_offer_w(c: &Candidate) -> bool {
        can_take_direct_offer(c, W)
    }

    fn agent(id: &str, idle_secs_ago: i64, load: u32) -> Candidate {
        Candidate {
            agent_id: id.into(),
            state: Some(AgentState::Available),
            has_next_state: false,
            member: true,
            skills: vec![],
            loads: [load, 0, 0, 0, 0],
            capacities: [4, 4, 4, 4, 5],
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
        assert_eq!(
            ids(rank(Strategy::LongestIdle, &all, W, &[])),
            ["b", "c", "a"]
        );
        assert_eq!(
            ids(rank(Strategy::LeastBusy, &all, W, &[])),
            ["c", "b", "a"]
        );
        assert_eq!(
            ids(rank(Strategy::RoundRobin, &all, W, &[])),
            ["a", "c", "b"]
        );
    }

    // spec: RTG-2
    #[test]
    fn only_available_members_below_capacity_with_skills_get_offers() {
        let base = agent("a", 1, 0);
        assert!(eligible(&base, &[]));
        assert!(
            !eligible(
                &Candidate {
                    loads: [4, 0, 0, 0, 0],
                    ..base.clone()
                },
                &[]
            ),
            "at capacity"
        );
        assert!(!eligible(
            &Candidate {
                state: Some(AgentState::Away),
                ..base.clone()
            },
            &[]
        ));
        assert!(!eligible(
            &Candidate {
                state: Some(AgentState::Offline),
                ..base.clone()
            },
            &[]
        ));
        assert!(!eligible(
            &Candidate {
                member: false,
                ..base.clone()
            },
            &[]
        ));
        assert!(!eligible(&base, &["fr".to_string()]), "missing skill");
        assert!(eligible(
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
        assert!(!eligible(
            &Candidate {
                state: Some(AgentState::Rona),
                ..base.clone()
            },
            &[]
        ));
        assert!(!eligible(
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
        assert!(!eligible(
            &Candidate {
                has_next_state: true,
                ..agent("a", 1, 0)
            },
            &[]
        ));
    }

    // spec: RTG-1, RTG-2
    #[test]
    fn a_full_channel_does_not_block_the_others() {
        let a = Candidate {
            loads: [1, 0, 1, 0, 0],
            capacities: [1, 1, 2, 1, 5],
            ..agent("a", 1, 0)
        };
        assert!(!is_eligible(&a, Channel::WebChat, &[]));
        assert!(is_eligible(&a, Channel::WhatsApp, &[]));
        assert!(is_eligible(&a, Channel::Email, &[]));
        assert!(!can_take_direct_offer(&a, Channel::WebChat));
        assert!(can_take_direct_offer(&a, Channel::WhatsApp));
        let mut b = a.clone();
        b.add_load(Channel::WhatsApp);
        assert!(!is_eligible(&b, Channel::WhatsApp, &[]));
        assert_eq!(b.total_load(), 3);
        assert!(!b.is_full(), "messenger and email still have room");
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
            proptest::array::uniform5(0u32..30),
            proptest::array::uniform5(1u32..26),
            0i64..10_000,
            proptest::option::of(0i64..10_000),
            any::<bool>(),
        )
            .prop_map(
                |(id, state, next, member, skills, loads, capacities, idle, offered, excluded)| {
                    Candidate {
                        agent_id: id,
                        state,
                        has_next_state: next,
                        member,
                        skills,
                        loads,
                        capacities,
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
            ids(rank_preferring(
                Strategy::LongestIdle,
                &all,
                W,
                &[],
                Some("b")
            )),
            ["b", "a"]
        );
        let full = [agent("a", 100, 0), agent("b", 10, 4)];
        assert_eq!(
            ids(rank_preferring(
                Strategy::LongestIdle,
                &full,
                W,
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
        assert!(can_take_direct_offer_w(&base));
        assert!(!can_take_direct_offer_w(&Candidate {
            loads: [4, 0, 0, 0, 0],
            ..base.clone()
        }));
        assert!(!can_take_direct_offer_w(&Candidate {
            state: Some(AgentState::Away),
            ..base.clone()
        }));
        assert!(!can_take_direct_offer_w(&Candidate {
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
            channel in 1..=5i32,
        ) {
            let required: Vec<String> = if need_fr { vec!["fr".into()] } else { vec![] };
            let ch = Channel::of_conversation(channel);
            let ranked = rank(Strategy::from_i32(strategy), &cands, ch, &required);
            for c in &ranked {
                prop_assert_eq!(c.state, Some(AgentState::Available));
                // Below capacity on the conversation's channel, whatever the
                // load on the others (RTG-2).
                prop_assert!(c.loads[ch.index()] < c.capacities[ch.index()]);
                prop_assert!(c.member && !c.excluded && !c.has_next_state);
                prop_assert!(required.iter().all(|s| c.skills.contains(s)));
            }
            let eligible = cands.iter().filter(|c| is_eligible(c, ch, &required)).count();
            prop_assert_eq!(ranked.len(), eligible, "every eligible agent is ranked");
        }

        // spec: RTG-6, CNV-12
        #[test]
        fn preferring_an_agent_only_reorders_the_eligible(
            cands in proptest::collection::vec(arb_candidate(), 0..12),
            strategy in 1..=3i32,
            preferred in "[a-e]{1,3}",
        ) {
            let plain = rank(Strategy::from_i32(strategy), &cands, W, &[]);
            let pref = rank_preferring(Strategy::from_i32(strategy), &cands, W, &[], Some(&preferred));
            prop_assert_eq!(plain.len(), pref.len());
            for c in &pref {
                prop_assert!(eligible(c, &[]));
            }
            if plain.iter().any(|c| c.agent_id == preferred) {
                prop_assert_eq!(&pref[0].agent_id, &preferred);
            } else {
                prop_assert_eq!(plain, pref);
            }
        }
    }
}
