//! Pure rules of conversations: message texts, statuses, qualification.
//! No I/O here.

mod qualification;
mod status;
mod template;
mod text;

pub use qualification::Qualification;
pub use status::{Author, EndedBy, RequestStatus, Status};
pub use template::{PLACEHOLDERS, TemplateBody, TemplateValues};
pub use text::{AGENT_TEXT_MAX, AgentText, CUSTOMER_TEXT_MAX, CustomerText};
