//! Capacity per channel (RTG-1, RTG-2): how many conversations of each
//! channel an agent may hold at once, and the defaults of each channel.
use livedesk_platform::errors::FieldViolation;

use super::Capacity;

/// The channels routing counts capacity for, numbered as
/// `livedesk.common.v1.Channel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    WebChat = 1,
    Messenger = 2,
    WhatsApp = 3,
    Instagram = 4,
    Email = 5,
}

/// Number of channels with a capacity of their own.
pub const CHANNELS: usize = 5;

/// One number per channel, indexed by [`Channel::index`].
pub type PerChannel = [u32; CHANNELS];

impl Channel {
    /// Every channel, in wire order.
    pub const ALL: [Channel; CHANNELS] = [
        Channel::WebChat,
        Channel::Messenger,
        Channel::WhatsApp,
        Channel::Instagram,
        Channel::Email,
    ];

    /// A channel named in a request: UNSPECIFIED or unknown is `None`.
    pub fn parse(v: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_i32() == v)
    }

    /// The channel a conversation counts against. Conversations queued
    /// without a channel (UNSPECIFIED) are web chats, as before capacities
    /// were per channel; the SQL function `routing_channel` agrees.
    pub fn of_conversation(v: i32) -> Self {
        Self::parse(v).unwrap_or(Channel::WebChat)
    }

    /// The wire number.
    pub fn as_i32(self) -> i32 {
        self as i32
    }

    /// Position in a [`PerChannel`] array (and, plus one, in the
    /// `agents.capacities` SQL array).
    pub fn index(self) -> usize {
        self as usize - 1
    }
}

/// An agent's capacity on every channel, defaults resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacities(PerChannel);

impl Default for Capacities {
    fn default() -> Self {
        Self::resolve(Capacity::DEFAULT, [None; CHANNELS])
    }
}

impl Capacities {
    /// Email default: an email thread does not need the immediate
    /// attention of a live chat, so an agent holds a few more of them than
    /// the chat default of 4 (RTG-1 only fixes the chat default).
    pub const EMAIL_DEFAULT: Capacity = match Capacity::new(5) {
        Some(c) => c,
        None => Capacity::DEFAULT,
    };

    /// Web chat takes its own value or 4; Messenger, WhatsApp and Instagram
    /// are chats too, so they default to the agent's web-chat value; email
    /// defaults to [`Self::EMAIL_DEFAULT`].
    fn resolve(web_chat: Capacity, set: [Option<Capacity>; CHANNELS]) -> Self {
        let mut out = [web_chat.get(); CHANNELS];
        out[Channel::Email.index()] = Self::EMAIL_DEFAULT.get();
        out[Channel::WebChat.index()] = web_chat.get();
        for ch in Channel::ALL {
            if let Some(c) = set[ch.index()] {
                out[ch.index()] = c.get();
            }
        }
        Self(out)
    }

    /// Parses the `(channel, capacity)` pairs of a request: each channel
    /// set and known, at most once, each capacity 1 to 25. Channels not
    /// listed take their defaults. Every problem is reported.
    pub fn parse(pairs: &[(i32, u32)]) -> Result<Self, Vec<FieldViolation>> {
        let mut violations = Vec::new();
        let mut set: [Option<Capacity>; CHANNELS] = [None; CHANNELS];
        let mut seen = [false; CHANNELS];
        for (i, &(channel, capacity)) in pairs.iter().enumerate() {
            let cap = Capacity::parse(capacity)
                .map_err(|_| {
                    violations.push(FieldViolation::new(
                        format!("capacities[{i}].capacity"),
                        format!("capacity must be 1 to {}", Capacity::MAX),
                    ))
                })
                .ok();
            let Some(ch) = Channel::parse(channel) else {
                violations.push(FieldViolation::new(
                    format!("capacities[{i}].channel"),
                    "a known channel is required",
                ));
                continue;
            };
            if std::mem::replace(&mut seen[ch.index()], true) {
                violations.push(FieldViolation::new(
                    format!("capacities[{i}].channel"),
                    "channel listed more than once",
                ));
                continue;
            }
            set[ch.index()] = cap;
        }
        if !violations.is_empty() {
            return Err(violations);
        }
        let web = set[Channel::WebChat.index()].unwrap_or(Capacity::DEFAULT);
        Ok(Self::resolve(web, set))
    }

    /// From the stored array (one value per channel, checked by the
    /// database). A missing or out-of-range value counts as 0: no offers
    /// on that channel rather than too many.
    pub fn from_stored(values: &[i32]) -> Self {
        let mut out = [0; CHANNELS];
        for (slot, v) in out.iter_mut().zip(values) {
            *slot = u32::try_from(*v)
                .ok()
                .filter(|v| (1..=Capacity::MAX).contains(v))
                .unwrap_or(0);
        }
        Self(out)
    }

    /// The stored array, in channel order.
    pub fn to_stored(self) -> Vec<i32> {
        self.0.iter().map(|v| *v as i32).collect()
    }

    /// The capacity on one channel.
    pub fn of(self, ch: Channel) -> u32 {
        self.0[ch.index()]
    }

    /// Every channel with its capacity.
    pub fn per_channel(self) -> PerChannel {
        self.0
    }
}

/// Whether an agent with `loads` may take one more conversation of
/// `channel` (RTG-2: offered + assigned + wrap-up on that channel).
pub fn has_room(loads: &PerChannel, capacities: &PerChannel, channel: Channel) -> bool {
    loads[channel.index()] < capacities[channel.index()]
}

/// Whether an agent is full on every channel.
pub fn is_full(loads: &PerChannel, capacities: &PerChannel) -> bool {
    Channel::ALL
        .into_iter()
        .all(|ch| !has_room(loads, capacities, ch))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    // spec: RTG-1
    #[test]
    fn defaults_chat_four_chats_follow_web_chat_email_five() {
        assert_eq!(Capacities::default().per_channel(), [4, 4, 4, 4, 5]);
        let c = Capacities::parse(&[(1, 2)]).unwrap();
        assert_eq!(c.per_channel(), [2, 2, 2, 2, 5], "chats follow web chat");
        let c = Capacities::parse(&[(3, 7), (5, 1)]).unwrap();
        assert_eq!(c.per_channel(), [4, 4, 7, 4, 1]);
        assert_eq!(c.of(Channel::WhatsApp), 7);
        assert_eq!(Capacities::from_stored(&c.to_stored()), c);
    }

    // spec: RTG-1
    #[test]
    fn bad_capacities_name_every_field() {
        let err = Capacities::parse(&[(1, 0), (3, 26), (0, 2), (9, 2), (1, 3)]).unwrap_err();
        let fields: Vec<&str> = err.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "capacities[0].capacity",
                "capacities[1].capacity",
                "capacities[2].channel",
                "capacities[3].channel",
                "capacities[4].channel",
            ]
        );
        assert!(Capacities::parse(&[(2, 25), (4, 1)]).is_ok());
    }

    // spec: RTG-2
    #[test]
    fn room_is_counted_per_channel() {
        let caps = [1, 4, 2, 4, 5];
        let loads = [1, 0, 1, 0, 0];
        assert!(!has_room(&loads, &caps, Channel::WebChat));
        assert!(has_room(&loads, &caps, Channel::WhatsApp));
        assert!(!is_full(&loads, &caps));
        assert!(is_full(&caps, &caps));
        assert_eq!(Channel::of_conversation(0), Channel::WebChat);
        assert_eq!(Channel::of_conversation(3), Channel::WhatsApp);
        assert_eq!(Channel::parse(0), None);
    }
}
