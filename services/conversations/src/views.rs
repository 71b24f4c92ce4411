//! Rows and domain values → protobuf messages (API views and event
//! payloads), used by `grpc/` and `events/` alike: `events/` never imports
//! `grpc/`.
use livedesk_platform::time::{opt_to_proto, to_proto};
use livedesk_proto::common::v1::CustomerIdentity;
use livedesk_proto::conversations::v1 as pb;

use crate::domain::Status;
use crate::store::{ConvRow, MessageRow};

/// The customer's name as agents and events see it (CNV-9).
pub use livedesk_pii::mask_name as display_name;

fn masked(text: &str, mask: bool) -> String {
    if mask {
        livedesk_pii::mask_pii(text)
    } else {
        text.to_owned()
    }
}

/// The API view of a conversation; `mask` hides emails and phone numbers
/// (staff reads with the org's masking on, CNV-9).
pub fn conversation(row: &ConvRow, mask: bool) -> pb::Conversation {
    pb::Conversation {
        id: row.id.to_string(),
        request_id: row.request_id.to_string(),
        channel: row.channel,
        queue_id: row.queue_id.to_string(),
        status: row.status,
        customer: Some(pb::Customer {
            name: if mask {
                display_name(&row.customer_name)
            } else {
                row.customer_name.clone()
            },
            email: if mask && !row.customer_email.is_empty() {
                livedesk_pii::mask_email(&row.customer_email)
            } else {
                row.customer_email.clone()
            },
            phone: if mask && !row.customer_phone.is_empty() {
                livedesk_pii::mask_phone(&row.customer_phone)
            } else {
                row.customer_phone.clone()
            },
            identities: row
                .identities
                .iter()
                .map(|(kind, value)| CustomerIdentity {
                    kind: *kind,
                    value: masked(value, mask),
                })
                .collect(),
            // Checked against IP blocks, never shown (BLK-9).
            ip_address: String::new(),
        }),
        participants: row
            .participants
            .iter()
            .map(
                |(principal_id, role, display_name, active)| pb::Participant {
                    principal_id: principal_id.clone(),
                    role: role.clone(),
                    display_name: if role == "customer" && mask {
                        self::display_name(display_name)
                    } else {
                        display_name.clone()
                    },
                    active: *active,
                },
            )
            .collect(),
        proactive: row.proactive,
        ended_by: row.ended_by,
        created_at: Some(to_proto(row.created_at)),
        ended_at: opt_to_proto(row.ended_at),
        assigned_agent_id: row.assigned_agent_id.clone().unwrap_or_default(),
        qualification: Some(qualification(row)),
        interrupted: row.interrupted,
        last_sequence: u64::try_from(row.last_sequence).unwrap_or(0),
        last_activity_at: Some(to_proto(row.last_activity_at)),
    }
}

fn qualification(row: &ConvRow) -> pb::Qualification {
    pb::Qualification {
        tags: row.qual_tags.clone(),
        contact_reason: row.qual_reason.clone(),
        note: row.qual_note.clone(),
    }
}

/// The API view of a message.
pub fn message(row: &MessageRow, mask: bool) -> pb::Message {
    pb::Message {
        id: row.id.to_string(),
        conversation_id: row.conversation_id.to_string(),
        sequence: row
            .sequence
            .and_then(|s| u64::try_from(s).ok())
            .unwrap_or(0),
        author_kind: row.author_kind,
        author_id: row.author_id.clone(),
        text: masked(&row.text, mask),
        attachment_ids: row.attachment_ids.iter().map(ToString::to_string).collect(),
        created_at: Some(to_proto(row.created_at)),
        client_message_id: row.client_message_id.clone().unwrap_or_default(),
    }
}

/// `ConversationEnded` with every fact reporting needs (RPT).
pub fn ended_event(row: &ConvRow) -> pb::ConversationEnded {
    pb::ConversationEnded {
        conversation_id: row.id.to_string(),
        request_id: row.request_id.to_string(),
        queue_id: row.queue_id.to_string(),
        channel: row.channel,
        status: row.status,
        ended_by: row.ended_by,
        ended_by_principal_id: row.ended_by_principal_id.clone(),
        qualification: Some(qualification(row)),
        request_status: row.request_status_at_end,
        agent_ids: row.all_agents(),
        customer_principal_id: row.customer_principal_id.clone(),
        created_at: Some(to_proto(row.created_at)),
        queued_at: Some(to_proto(row.queued_at)),
        first_response_at: opt_to_proto(row.first_response_at),
        assigned_at: opt_to_proto(row.assigned_at),
        ended_at: opt_to_proto(row.ended_at),
        message_count: u32::try_from(row.message_count).unwrap_or(0),
        // Ended before any agent took it: no assignment ever happened.
        abandoned: row.assigned_at.is_none() && matches!(row.status(), Ok(Status::Ended)),
        proactive: row.proactive,
        customer_name: display_name(&row.customer_name),
    }
}

/// `MessagePosted` for a visible message: the customer and the active
/// agents are told.
/// `MessagePosted` for notifications; `mask_pii` is the org's setting, so
/// pushes to staff are masked exactly as `ListMessages` is (CNV-9).
pub fn posted_event(conv: &ConvRow, msg: &MessageRow, mask_pii: bool) -> pb::MessagePosted {
    let mut audience = vec![conv.customer_principal_id.clone()];
    audience.extend(conv.active_agents());
    pb::MessagePosted {
        message: Some(message(msg, false)),
        audience,
        customer_principal_id: conv.customer_principal_id.clone(),
        pii_visible_to_staff: !mask_pii,
    }
}

/// The API view of a contact; `mask` hides email and phone (CNV-9).
pub fn contact(row: &crate::store::ContactRow, mask: bool) -> pb::Contact {
    contact_view(
        row.id,
        &row.name,
        &row.email,
        &row.phone,
        row.created_at,
        mask,
    )
}

fn contact_view(
    id: uuid::Uuid,
    name: &str,
    email: &str,
    phone: &str,
    created_at: chrono::DateTime<chrono::Utc>,
    mask: bool,
) -> pb::Contact {
    pb::Contact {
        id: id.to_string(),
        name: if mask {
            display_name(name)
        } else {
            name.to_owned()
        },
        email: if mask && !email.is_empty() {
            livedesk_pii::mask_email(email)
        } else {
            email.to_owned()
        },
        phone: if mask && !phone.is_empty() {
            livedesk_pii::mask_phone(phone)
        } else {
            phone.to_owned()
        },
        created_at: Some(to_proto(created_at)),
    }
}

/// The API view of a request (CNV-1).
pub fn request(row: &crate::store::RequestRow, mask: bool) -> pb::Request {
    let contact = match (row.contact_id, row.contact_created_at) {
        (Some(id), Some(at)) => Some(contact_view(
            id,
            row.contact_name.as_deref().unwrap_or_default(),
            row.contact_email.as_deref().unwrap_or_default(),
            row.contact_phone.as_deref().unwrap_or_default(),
            at,
            mask,
        )),
        _ => None,
    };
    pb::Request {
        id: row.id.to_string(),
        status: row.status,
        contact_reason: row.contact_reason.clone(),
        priority: row.priority,
        tags: row.tags.clone(),
        assignee_id: row.assignee_id.clone().unwrap_or_default(),
        assignee_initials: row.assignee_initials.clone(),
        contact,
        created_at: Some(to_proto(row.created_at)),
        updated_at: Some(to_proto(row.updated_at)),
        conversation_ids: row
            .conversation_ids
            .iter()
            .map(ToString::to_string)
            .collect(),
        custom_fields: row
            .custom_field_keys
            .iter()
            .zip(&row.custom_field_values)
            .map(|(key, value)| pb::FormFieldValue {
                key: key.clone(),
                value: value.clone(),
            })
            .collect(),
    }
}
