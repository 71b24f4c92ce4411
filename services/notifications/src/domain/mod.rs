//! Pure rules of notifications: who receives what (audience), and what a
//! valid email and its delivery status machine are. No I/O here.

mod audience;
mod email;
mod subscription;

pub use audience::{Recipients, reachable_customer};
pub use email::{
    Attempt, DeliveryState, OutgoingEmail, RetryPolicy, Status, Subject, Transition, backoff,
    html_from_text, message_id, safe_error,
};
pub use subscription::StartAt;
