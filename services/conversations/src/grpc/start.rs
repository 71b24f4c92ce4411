//! `StartConversation` (CNV-3): blocking first, then business hours and
//! staffing, then a QUEUED conversation announced to routing.
use livedesk_auth::{Principal, Role, principal};
use livedesk_platform::errors::FieldViolation;
use livedesk_proto::blocking::v1::CheckIdentitiesRequest;
use livedesk_proto::common::v1::{Channel, CustomerIdentity, IdentityKind};
use livedesk_proto::conversations::v1 as pb;
use livedesk_proto::scheduling::v1::{GetWidgetStateRequest, WidgetMode};
use sea_orm::TransactionTrait;
use tonic::Request;
use uuid::Uuid;

use super::service::ConversationsGrpc;
use crate::domain::{Author, CustomerText, offline_action};
use crate::error::{Entity, Error};
use crate::store::{ConvRow, Conversations, MessageRow, Messages, NewConversation, Settings};
use crate::views;

/// A valid StartConversation request (also built from an ended
/// conversation for its follow-up, CNV-8).
pub(super) struct Start {
    pub(super) channel: i32,
    pub(super) queue_id: Uuid,
    pub(super) customer_principal_id: String,
    pub(super) identities: Vec<(i32, String)>,
    pub(super) name: String,
    pub(super) email: String,
    pub(super) phone: String,
    pub(super) ip: String,
    pub(super) first_message: Option<CustomerText>,
    pub(super) proactive: bool,
    pub(super) priority: i32,
    pub(super) client_request_id: Option<String>,
}

impl Start {
    /// A new conversation for the customer of `ended`, on the same channel
    /// and queue, opened by `text` (CNV-8).
    pub(super) fn follow_up(ended: &ConvRow, text: CustomerText, key: Option<&str>) -> Self {
        Self {
            channel: ended.channel,
            queue_id: ended.queue_id,
            customer_principal_id: ended.customer_principal_id.clone(),
            identities: ended.identities.clone(),
            name: ended.customer_name.clone(),
            email: ended.customer_email.clone(),
            phone: ended.customer_phone.clone(),
            ip: ended.ip_address.clone(),
            first_message: Some(text),
            proactive: false,
            priority: ended.priority,
            // A retried message creates the follow-up once (TEN-5).
            client_request_id: key.map(|k| format!("followup:{}:{k}", ended.id)),
        }
    }
}

/// What the checks of CNV-3 decided.
pub(super) enum Admission {
    /// Create the conversation (with the out-of-hours message of a
    /// messaging channel, if any).
    Open(Option<String>),
    /// No conversation: show this form.
    Offline(Box<pb::StartConversationResponse>),
}

/// A conversation created, or the one a concurrent identical submit created.
pub(super) struct Created {
    pub row: ConvRow,
    /// The customer's first message, when there was one and this call stored it.
    pub first: Option<MessageRow>,
}

fn bounded(field: &str, raw: &str, max: usize, v: &mut Vec<FieldViolation>) -> String {
    let t = raw.trim();
    if t.chars().count() > max {
        v.push(FieldViolation::new(
            field,
            format!("at most {max} characters"),
        ));
    }
    t.to_owned()
}

fn parse(who: &Principal, body: &pb::StartConversationRequest) -> Result<Start, Error> {
    let mut v = Vec::new();
    let channel = match Channel::try_from(body.channel) {
        Ok(Channel::Unspecified) | Err(_) => {
            v.push(FieldViolation::new("channel", "must be set"));
            0
        }
        Ok(c) => c as i32,
    };
    let queue_id = livedesk_platform::defaults::queue_or_default(who.org_id, &body.queue_id)
        .unwrap_or_else(|_| {
            v.push(FieldViolation::new("queue_id", "must be a UUID or empty"));
            Uuid::nil()
        });
    let customer = body.customer.clone().unwrap_or_default();
    let mut given = customer.identities.clone();
    if who.role == Role::Visitor {
        // The widget's visitor is always one of the customer's identities.
        given.push(CustomerIdentity {
            kind: IdentityKind::WebVisitor as i32,
            value: who.id.clone(),
        });
    }
    let identities: Vec<(i32, String)> = match livedesk_platform::identity::normalize_all(&given) {
        Ok(ids) => ids.into_iter().map(|(k, val)| (k as i32, val)).collect(),
        Err(e) => {
            v.push(FieldViolation::new(
                format!("customer.{}", e.field),
                e.description,
            ));
            vec![]
        }
    };
    let customer_principal_id = if who.role == Role::Visitor {
        who.id.clone()
    } else if let Some((_, val)) = identities
        .iter()
        .find(|(k, _)| *k == IdentityKind::WebVisitor as i32)
    {
        val.clone()
    } else if let Some((k, val)) = identities.first() {
        format!(
            "{}:{val}",
            IdentityKind::try_from(*k)
                .map(|k| k.as_str_name())
                .unwrap_or("identity")
        )
    } else {
        v.push(FieldViolation::new(
            "customer.identities",
            "a service must name at least one identity of the customer",
        ));
        String::new()
    };
    let name = bounded("customer.name", &customer.name, 200, &mut v);
    let email = bounded("customer.email", &customer.email, 320, &mut v);
    let phone = bounded("customer.phone", &customer.phone, 40, &mut v);
    let ip = match customer.ip_address.trim() {
        "" => String::new(),
        raw => raw
            .parse::<std::net::IpAddr>()
            .map(|ip| ip.to_string())
            .unwrap_or_else(|_| {
                v.push(FieldViolation::new(
                    "customer.ip_address",
                    "not an IP address",
                ));
                String::new()
            }),
    };
    let first_message = if body.first_message.trim().is_empty() {
        None
    } else {
        CustomerText::parse("first_message", &body.first_message)
            .map_err(|e| v.push(e))
            .ok()
    };
    let priority = match body.priority {
        0 => 1,
        p @ 1..=3 => p,
        _ => {
            v.push(FieldViolation::new("priority", "unknown priority"));
            1
        }
    };
    let client_request_id = Some(bounded(
        "client_request_id",
        &body.client_request_id,
        200,
        &mut v,
    ))
    .filter(|k| !k.is_empty());
    if !v.is_empty() {
        return Err(Error::Invalid(v));
    }
    Ok(Start {
        channel,
        queue_id,
        customer_principal_id,
        identities,
        name,
        email,
        phone,
        ip,
        first_message,
        proactive: body.proactive,
        priority,
        client_request_id,
    })
}

fn created(row: &ConvRow, out_of_hours: String) -> pb::StartConversationResponse {
    pb::StartConversationResponse {
        outcome: Some(pb::start_conversation_response::Outcome::Conversation(
            views::conversation(row, false),
        )),
        form_id: String::new(),
        out_of_hours_message: out_of_hours,
    }
}

impl ConversationsGrpc {
    /// Starts a conversation, or tells the widget which form to show.
    pub(super) async fn start(
        &self,
        req: Request<pb::StartConversationRequest>,
    ) -> Result<pb::StartConversationResponse, Error> {
        let who = principal(&req)?;
        who.require(&[Role::Visitor, Role::Service], "start a conversation")?;
        let org = who.org_id;
        let s = parse(&who, req.get_ref())?;
        if let Some(row) = self.existing(org, &s).await? {
            return Ok(created(&row, String::new()));
        }
        match self.admit(org, &s).await? {
            Admission::Offline(resp) => Ok(*resp),
            Admission::Open(out_of_hours) => {
                let c = self.create(org, &s, out_of_hours.clone()).await?;
                Ok(created(&c.row, out_of_hours.unwrap_or_default()))
            }
        }
    }

    /// The conversation a retry or a double submit joins (TEN-5, CNV-2).
    pub(super) async fn existing(&self, org: Uuid, s: &Start) -> Result<Option<ConvRow>, Error> {
        if let Some(k) = &s.client_request_id
            && let Some(row) = Conversations::by_client_request(&self.db, org, k).await?
        {
            return Ok(Some(row));
        }
        if let Some(id) = Conversations::live_for(&self.db, org, s.channel, &s.identities).await? {
            return Ok(Conversations::get(&self.db, org, id).await?);
        }
        Ok(None)
    }

    /// The checks of CNV-3, in order: blocking, then business hours and
    /// staffing. A blocked customer gets PERMISSION_DENIED and nothing is stored.
    pub(super) async fn admit(&self, org: Uuid, s: &Start) -> Result<Admission, Error> {
        // (a) blocking (BLK-3): a blocked customer gets nothing, and nothing is stored.
        let check = CheckIdentitiesRequest {
            identities: s
                .identities
                .iter()
                .map(|(kind, value)| CustomerIdentity {
                    kind: *kind,
                    value: value.clone(),
                })
                .collect(),
            ip_address: s.ip.clone(),
        };
        let verdict = livedesk_platform::peer::idempotent(|| async {
            let check = self.rt.peer_request(org, check.clone())?;
            self.blocking.clone().check_identities(check).await
        })
        .await
        .map_err(livedesk_platform::errors::peer("blocking"))?
        .into_inner();
        if verdict.blocked {
            tracing::info!(block_id = %verdict.block_id, "conversation refused: customer is blocked");
            return Err(Error::CustomerBlocked);
        }

        // (b) business hours and staffing (SCH-3).
        let ask = GetWidgetStateRequest {
            queue_id: s.queue_id.to_string(),
            channel: s.channel,
        };
        let state = livedesk_platform::peer::idempotent(|| async {
            let ask = self.rt.peer_request(org, ask.clone())?;
            self.scheduling.clone().get_widget_state(ask).await
        })
        .await
        .map_err(livedesk_platform::errors::peer("scheduling"))?
        .into_inner();
        let offline = offline_action(state.mode)?.map(|action| {
            let default_form = match action {
                pb::OfflineAction::OfflineForm => {
                    livedesk_platform::defaults::default_offline_form_id(org)
                }
                pb::OfflineAction::ContactForm => {
                    livedesk_platform::defaults::default_contact_form_id(org)
                }
                pb::OfflineAction::Hidden | pb::OfflineAction::Unspecified => Uuid::nil(),
            };
            (action, default_form)
        });
        if let Some((action, default_form)) = offline {
            let form_id = if !state.form_id.is_empty() {
                state.form_id
            } else if action == pb::OfflineAction::Hidden {
                String::new()
            } else {
                default_form.to_string()
            };
            return Ok(Admission::Offline(Box::new(
                pb::StartConversationResponse {
                    outcome: Some(pb::start_conversation_response::Outcome::Offline(
                        action as i32,
                    )),
                    form_id,
                    out_of_hours_message: String::new(),
                },
            )));
        }
        let out_of_hours = (state.mode == WidgetMode::MessagingOutOfHours as i32)
            .then(|| state.out_of_hours_message.trim().to_owned())
            .filter(|t| !t.is_empty());
        Ok(Admission::Open(out_of_hours))
    }

    /// Creates the QUEUED conversation (attached to the customer's latest
    /// request that is not CLOSED, else a new one) and announces it.
    pub(super) async fn create(
        &self,
        org: Uuid,
        s: &Start,
        out_of_hours: Option<String>,
    ) -> Result<Created, Error> {
        let txn = self.db.begin().await?;
        let request_id =
            match Conversations::open_request(&txn, org, &s.customer_principal_id).await? {
                Some(id) => id,
                None => {
                    Conversations::insert_request(&txn, org, &s.customer_principal_id, s.priority)
                        .await?
                }
            };
        let new = NewConversation {
            id: Uuid::now_v7(),
            org_id: org,
            request_id,
            channel: s.channel,
            queue_id: s.queue_id,
            priority: s.priority,
            customer_principal_id: s.customer_principal_id.clone(),
            customer_name: s.name.clone(),
            customer_email: s.email.clone(),
            customer_phone: s.phone.clone(),
            ip_address: s.ip.clone(),
            proactive: s.proactive,
            identities: s.identities.clone(),
            client_request_id: s.client_request_id.clone(),
        };
        if !Conversations::insert(&txn, &new).await? {
            txn.rollback().await?;
            // Lost a race with an identical submit: return the winner (CNV-2, TEN-5).
            if let Some(row) = self.existing(org, s).await? {
                return Ok(Created { row, first: None });
            }
            return Err(Error::CustomerJustEnded);
        }
        let mut first = None;
        if let Some(text) = &s.first_message {
            // PCI never reaches the database in clear (CNV-9).
            let masked = livedesk_pii::mask_pci(text.as_str());
            first = Some(
                Messages::append(
                    &txn,
                    org,
                    new.id,
                    Author::Customer,
                    &s.customer_principal_id,
                    masked.as_str(),
                    None,
                    &[],
                )
                .await?,
            );
        }
        if let Some(text) = &out_of_hours {
            Messages::append(&txn, org, new.id, Author::System, "", text, None, &[]).await?;
        }
        let row = Conversations::get(&txn, org, new.id)
            .await?
            .ok_or(Error::NotFound(Entity::Conversation))?;
        let queued = self.queued_event(&txn, &row, None).await?;
        let staged = self.outbox.stage(&txn, org, row.id, &queued).await?;
        txn.commit().await?;
        self.outbox.publish(vec![staged]).await;
        tracing::info!(conversation_id = %row.id, queue_id = %row.queue_id, "conversation queued");
        Ok(Created { row, first })
    }

    /// `ConversationQueued` for routing; `preferred` (and `enqueued_at` =
    /// now) when a paused conversation resumes (CNV-12).
    pub(super) async fn queued_event<C: sea_orm::ConnectionTrait>(
        &self,
        db: &C,
        row: &ConvRow,
        preferred: Option<&str>,
    ) -> Result<pb::ConversationQueued, Error> {
        // Only agents see these (in the offer): masked as their reads are (CNV-9).
        let mask = Settings::get(db, row.org_id).await?.mask_pii;
        let first_messages = Messages::first_texts(db, row.org_id, row.id, 5)
            .await?
            .into_iter()
            .map(|t| if mask { livedesk_pii::mask_pii(&t) } else { t })
            .collect();
        let enqueued_at = if preferred.is_some() {
            chrono::Utc::now()
        } else {
            row.queued_at
        };
        Ok(pb::ConversationQueued {
            conversation_id: row.id.to_string(),
            queue_id: row.queue_id.to_string(),
            priority: row.priority,
            customer_name: views::display_name(&row.customer_name),
            channel: row.channel,
            first_messages,
            proactive: row.proactive,
            created_at: Some(livedesk_platform::time::to_proto(row.created_at)),
            customer_principal_id: row.customer_principal_id.clone(),
            preferred_agent_id: preferred.unwrap_or_default().to_owned(),
            enqueued_at: Some(livedesk_platform::time::to_proto(enqueued_at)),
        })
    }
}
