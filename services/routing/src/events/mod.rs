//! What routing consumes: the conversations stream (enqueue, pause, end:
//! `ConversationEvents`) and the erasure requests on it. Consumers react
//! to events by calling the engine (`crate::engine`); they never import
//! `grpc/`, and protobuf views come from `crate::views`.

mod consumer;
mod erasure;

pub use consumer::ConversationEvents;
pub use erasure::ErasureEvents;
