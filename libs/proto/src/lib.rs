//! Generated gRPC services and event messages of every Livedesk API.
//!
//! The `.proto` sources live in `proto/livedesk/<domain>/v1/`; this crate
//! compiles them at build time (nothing generated is committed).
#![allow(clippy::all, clippy::pedantic, missing_docs)]

/// Encoded `FileDescriptorSet` of every Livedesk proto, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/livedesk_descriptor.bin"));

/// Declares `pub mod <domain> { pub mod v1 { … } }` for each domain, with
/// the code generated from `proto/livedesk/<domain>/v1/`.
macro_rules! domains {
    ($($domain:ident),* $(,)?) => {
        $(pub mod $domain {
            pub mod v1 {
                include!(concat!(env!("OUT_DIR"), "/livedesk.", stringify!($domain), ".v1.rs"));
            }
        })*
    };
}

domains!(
    common,
    events,
    routing,
    conversations,
    blocking,
    scheduling,
    reporting,
    notifications,
    privacy,
);

/// Names the protobuf type of an event, for the envelope's `type` field and
/// the subject. Implemented for every event message below.
pub trait EventType: prost::Message + Default {
    /// Fully qualified protobuf name, e.g. `livedesk.conversations.v1.ConversationQueued`.
    const TYPE: &'static str;
    /// Version of the payload schema, bumped on incompatible change.
    const SCHEMA_VERSION: u32 = 1;
}

macro_rules! event_types {
    ($($module:ident :: $ty:ident),* $(,)?) => {
        $(impl EventType for $module::v1::$ty {
            const TYPE: &'static str = concat!("livedesk.", stringify!($module), ".v1.", stringify!($ty));
        })*
    };
}

event_types!(
    routing::AgentStateChanged,
    routing::OfferCreated,
    routing::OfferAccepted,
    routing::OfferDeclined,
    routing::OfferExpired,
    routing::OfferWithdrawn,
    routing::ConversationAssigned,
    routing::ConversationTransferred,
    routing::TransferFailed,
    routing::ConferenceChanged,
    routing::WrapUpStarted,
    routing::WrapUpSubmitted,
    routing::ConversationAbandoned,
    routing::ConversationInterrupted,
    routing::QueuePositionChanged,
    routing::QueueChanged,
    routing::QueueStaffingChanged,
    routing::AgentQueuesChanged,
    routing::OfflineFormOffered,
    conversations::ConversationQueued,
    conversations::ConversationActivated,
    conversations::MessagePosted,
    conversations::MessageDropped,
    conversations::ConversationPaused,
    conversations::ConversationEnded,
    conversations::QualificationUpdated,
    conversations::RequestAssigned,
    conversations::EmailRequested,
    blocking::CustomerBlocked,
    blocking::CustomerUnblocked,
    blocking::IpBlocked,
    blocking::BlockExpired,
    scheduling::QueueOpened,
    scheduling::QueueClosed,
    scheduling::QueueClosingSoon,
    scheduling::FormSubmitted,
    scheduling::FormSubmissionDropped,
    notifications::EmailDeliveryChanged,
    privacy::CustomerErasureRequested,
    privacy::CustomerErased,
);
