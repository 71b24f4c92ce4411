//! Generated gRPC services and event messages of every Livedesk API.
//!
//! The `.proto` sources live in `proto/livedesk/<domain>/v1/`; this crate
//! compiles them at build time (nothing generated is committed).
#![allow(clippy::all, clippy::pedantic, missing_docs)]

/// Encoded `FileDescriptorSet` of every Livedesk proto, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/livedesk_descriptor.bin"));

pub mod common {
    pub mod v1 {
        tonic::include_proto!("livedesk.common.v1");
    }
}
pub mod events {
    pub mod v1 {
        tonic::include_proto!("livedesk.events.v1");
    }
}
pub mod routing {
    pub mod v1 {
        tonic::include_proto!("livedesk.routing.v1");
    }
}
pub mod conversations {
    pub mod v1 {
        tonic::include_proto!("livedesk.conversations.v1");
    }
}
pub mod blocking {
    pub mod v1 {
        tonic::include_proto!("livedesk.blocking.v1");
    }
}
pub mod scheduling {
    pub mod v1 {
        tonic::include_proto!("livedesk.scheduling.v1");
    }
}
pub mod reporting {
    pub mod v1 {
        tonic::include_proto!("livedesk.reporting.v1");
    }
}
pub mod notifications {
    pub mod v1 {
        tonic::include_proto!("livedesk.notifications.v1");
    }
}
pub mod privacy {
    pub mod v1 {
        tonic::include_proto!("livedesk.privacy.v1");
    }
}

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
