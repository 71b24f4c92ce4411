//! Pure rules of conversations: message texts, statuses, qualification.
//! No I/O here.

mod admission;
mod attachment;
mod email;
pub mod labels;
mod qualification;
mod request;
mod status;
mod tags;
mod template;
mod text;

pub use admission::offline_action;
pub use attachment::{ALLOWED_TYPES, AttachmentMeta};
pub use email::{
    BODY_MAX, Subject, TranscriptLine, new_message_id, normalize_message_id, parse_body, short_id,
    subject_token, token_in_subject, transcript,
};
pub use qualification::Qualification;
pub use request::{ContactQuery, Priority, initials, parse_initials, parse_request_status};
pub use status::{Author, EndedBy, RequestStatus, Status};
pub use tags::{TagRule, TaggedText, recommend};
pub use template::{PLACEHOLDERS, TemplateBody, TemplateValues};
pub use text::{AGENT_TEXT_MAX, AgentText, CUSTOMER_TEXT_MAX, CustomerText};
