//! Continue by email (CNV-14): staff send from a request (stored in its
//! history, delivered by notifications), an email gateway ingests replies
//! that are threaded into the same request, and the history reads chat and
//! email as one. Email from a blocked address is dropped (BLK-3).
use livedesk_auth::{Principal, Role, principal};
use livedesk_platform::EmailAddress;
use livedesk_platform::errors::{FieldViolation, PeerError, parse_uuid};
use livedesk_platform::identity::normalize;
use livedesk_platform::time::to_proto;
use livedesk_proto::blocking::v1::CheckIdentitiesRequest;
use livedesk_proto::common::v1::{CustomerIdentity, IdentityKind};
use livedesk_proto::conversations::v1 as pb;
use sea_orm::TransactionTrait;
use tonic::Request;
use uuid::Uuid;

use super::access::masks_pii;
use super::requests::visible_request;
use super::service::ConversationsGrpc;
use crate::domain::{
    BODY_MAX, Subject, new_message_id, normalize_message_id, parse_body, token_in_subject,
};
use crate::error::{Entity, Error};
use crate::store::{BlockedCache, EmailRow, Emails, FormCopies, FormCopyRow, NewEmail, Requests};
use crate::views;

/// A form submission's copy (SCH-6); with `mask`, the submitted email is
/// masked as a contact's is.
fn form_view(row: &FormCopyRow, mask: bool) -> pb::HistoryItem {
    let values = row
        .field_keys
        .iter()
        .zip(&row.field_values)
        .map(|(key, value)| pb::FormFieldValue {
            key: key.clone(),
            value: if mask && key == "email" && !value.is_empty() {
                livedesk_pii::mask_email(value)
            } else {
                value.clone()
            },
        })
        .collect();
    pb::HistoryItem {
        at: Some(to_proto(row.submitted_at)),
        item: Some(pb::history_item::Item::Form(pb::FormCopy {
            submission_id: row.id.to_string(),
            form_id: row.form_id.to_string(),
            contact_form: row.contact_form,
            values,
            queue_id: row.queue_id.clone(),
            submitted_at: Some(to_proto(row.submitted_at)),
        })),
    }
}

fn email_view(row: &EmailRow, mask: bool) -> pb::HistoryItem {
    let addr = |a: &str| {
        if mask {
            livedesk_pii::mask_email(a)
        } else {
            a.to_owned()
        }
    };
    pb::HistoryItem {
        at: Some(to_proto(row.created_at)),
        item: Some(pb::history_item::Item::Email(pb::EmailMessage {
            id: row.id.to_string(),
            request_id: row.request_id.to_string(),
            inbound: row.inbound,
            from: addr(&row.from_addr),
            to: row.to_addrs.iter().map(|a| addr(a)).collect(),
            subject: row.subject.clone(),
            text_body: if mask {
                livedesk_pii::mask_pii(&row.text_body)
            } else {
                row.text_body.clone()
            },
            message_id: row.message_id.clone(),
            in_reply_to: row.in_reply_to.clone(),
            at: Some(to_proto(row.created_at)),
        })),
    }
}

fn collect<T>(r: Result<T, FieldViolation>, v: &mut Vec<FieldViolation>) -> Option<T> {
    r.map_err(|e| v.push(e)).ok()
}

impl ConversationsGrpc {
    /// Sends an email from a request to its contact (staff).
    pub(super) async fn send_email(
        &self,
        req: Request<pb::SendEmailRequest>,
    ) -> Result<pb::HistoryItem, Error> {
        let who = principal(&req)?;
        who.require(
            &[Role::Agent, Role::Supervisor, Role::Admin],
            "send an email",
        )?;
        let org = who.org_id;
        let body = req.get_ref();
        let mut v = Vec::new();
        let id = collect(parse_uuid("request_id", &body.request_id), &mut v);
        let subject = collect(Subject::parse("subject", &body.subject), &mut v);
        let text = collect(parse_body("text_body", &body.text_body), &mut v);
        let key = body.client_request_id.trim();
        if key.chars().count() > 200 {
            v.push(FieldViolation::new(
                "client_request_id",
                "at most 200 characters",
            ));
        }
        let (Some(id), Some(subject), Some(text)) = (id, subject, text) else {
            return Err(Error::Invalid(v));
        };
        if !v.is_empty() {
            return Err(Error::Invalid(v));
        }
        let key = Some(format!("send:{key}")).filter(|_| !key.is_empty());
        let mask = masks_pii(&self.db, &who).await?;
        let request = visible_request(&self.db, &who, id).await?;
        if let Some(k) = &key
            && let Some(first) = Emails::existing(&self.db, org, Some(k), None).await?
        {
            return Ok(email_view(&first, mask));
        }
        let to = request
            .contact_email
            .clone()
            .filter(|e| !e.is_empty())
            .ok_or(Error::ContactWithoutEmail)?;
        // Nothing reaches a blocked customer, continue-by-email included
        // (BLK-3, NTF-3); notifications suppresses too, as a second guard.
        let normalized =
            normalize(IdentityKind::Email, &to).map_err(|_| Error::ContactEmailInvalid)?;
        if BlockedCache::covering(&self.db, org, IdentityKind::Email as i32, &normalized)
            .await?
            .is_some()
        {
            return Err(Error::NoEmailToBlocked);
        }
        let last_inbound = Emails::for_request(&self.db, org, id)
            .await?
            .into_iter()
            .rev()
            .find(|e| e.inbound)
            .map(|e| e.message_id);
        let new = NewEmail {
            request_id: id,
            inbound: false,
            from: self.email_from.clone(),
            to: vec![to.clone()],
            subject: subject.with_token(id),
            // PCI never reaches the database in clear (CNV-9).
            text_body: livedesk_pii::mask_pci(&text).into_string(),
            message_id: new_message_id(&self.email_domain),
            in_reply_to: last_inbound.clone().unwrap_or_default(),
            references: last_inbound.into_iter().collect(),
            client_request_id: key.clone(),
        };
        let txn = self.db.begin().await?;
        let Some(row) = Emails::insert(&txn, org, &new).await? else {
            txn.rollback().await?;
            let first = Emails::existing(&self.db, org, key.as_deref(), None)
                .await?
                .ok_or(Error::EmailJustSent)?;
            return Ok(email_view(&first, mask));
        };
        let event = pb::EmailRequested {
            email_id: row.id.to_string(),
            request_id: id.to_string(),
            conversation_id: String::new(),
            to: row.to_addrs.clone(),
            subject: row.subject.clone(),
            text_body: row.text_body.clone(),
            html_body: String::new(),
            kind: "reply".into(),
            message_id: row.message_id.clone(),
        };
        let staged = self.outbox.stage(&txn, org, id, &event).await?;
        txn.commit().await?;
        self.outbox.publish(vec![staged]).await;
        tracing::info!(request_id = %id, email_id = %row.id, "email reply requested");
        Ok(email_view(&row, mask))
    }

    /// Threads an inbound email into its request (email gateway only):
    /// by In-Reply-To/References, then by the subject token, else a new
    /// request for the sender. A blocked sender's email is dropped.
    pub(super) async fn ingest_email(
        &self,
        req: Request<pb::IngestEmailRequest>,
    ) -> Result<pb::IngestEmailResponse, Error> {
        let who = principal(&req)?;
        who.require(&[Role::Service], "ingest an email")?;
        let org = who.org_id;
        let body = req.get_ref();
        let mut v = Vec::new();
        let from = collect(EmailAddress::parse_field("from", &body.from), &mut v);
        let to: Vec<String> = body
            .to
            .iter()
            .filter_map(|a| collect(EmailAddress::parse_field("to", a), &mut v))
            .map(|a| a.as_str().to_owned())
            .collect();
        let subject = match body.subject.trim() {
            "" => Some("(no subject)".to_owned()),
            raw => collect(Subject::parse("subject", raw), &mut v).map(|s| s.as_str().to_owned()),
        };
        if body.text_body.chars().count() > BODY_MAX {
            v.push(FieldViolation::new(
                "text_body",
                format!("at most {BODY_MAX} characters"),
            ));
        }
        let message_id = match body.message_id.trim() {
            "" => Some(new_message_id(&self.email_domain)),
            raw => collect(
                normalize_message_id(raw)
                    .ok_or_else(|| FieldViolation::new("message_id", "not a Message-ID")),
                &mut v,
            ),
        };
        let (Some(from), Some(subject), Some(message_id)) = (from, subject, message_id) else {
            return Err(Error::Invalid(v));
        };
        if !v.is_empty() {
            return Err(Error::Invalid(v));
        }
        if let Some(first) = Emails::existing(&self.db, org, None, Some(&message_id)).await? {
            return Ok(pb::IngestEmailResponse {
                request_id: first.request_id.to_string(),
                dropped: false,
            });
        }
        if let Some(block_id) = self.email_blocked(&who, &from).await? {
            // BLK-3: dropped, and counted against the block like a chat
            // message (the blocking service and reporting count MessageDropped).
            let dropped = pb::MessageDropped {
                conversation_id: String::new(),
                block_id: block_id.to_string(),
                identity: Some(CustomerIdentity {
                    kind: IdentityKind::Email as i32,
                    value: from.as_str().to_owned(),
                }),
            };
            let txn = self.db.begin().await?;
            let staged = self.outbox.stage(&txn, org, block_id, &dropped).await?;
            txn.commit().await?;
            self.outbox.publish(vec![staged]).await;
            tracing::info!(%block_id, "inbound email from a blocked address dropped");
            return Ok(pb::IngestEmailResponse {
                request_id: String::new(),
                dropped: true,
            });
        }
        let mut refs: Vec<String> = body
            .references
            .iter()
            .chain(std::iter::once(&body.in_reply_to))
            .filter_map(|r| normalize_message_id(r))
            .collect();
        refs.dedup();
        let txn = self.db.begin().await?;
        let mut request_id = Emails::thread_of(&txn, org, &refs).await?;
        if request_id.is_none()
            && let Some(short) = token_in_subject(&subject)
        {
            request_id = Requests::by_short_id(&txn, org, &short).await?;
        }
        let request_id = match request_id {
            Some(id) => {
                Requests::reopen(&txn, org, id).await?;
                id
            }
            None => {
                let contact = match Requests::contact_by_email(&txn, org, from.as_str()).await? {
                    Some(c) => c,
                    None => Requests::create_contact(&txn, org, "", from.as_str(), "")
                        .await?
                        .ok_or(Error::NotFound(Entity::Contact))?,
                };
                let customer = format!("{}:{}", IdentityKind::Email.as_str_name(), from.as_str());
                Requests::insert_for_contact(&txn, org, &customer, contact.id).await?
            }
        };
        let new = NewEmail {
            request_id,
            inbound: true,
            from: from.as_str().to_owned(),
            to,
            subject: livedesk_pii::mask_pci(&subject).into_string(),
            text_body: livedesk_pii::mask_pci(&body.text_body).into_string(),
            message_id,
            in_reply_to: normalize_message_id(&body.in_reply_to).unwrap_or_default(),
            references: refs,
            client_request_id: None,
        };
        let stored = Emails::insert(&txn, org, &new).await?;
        txn.commit().await?;
        let request_id = match stored {
            Some(row) => row.request_id,
            // A concurrent retry stored it first.
            None => Emails::existing(&self.db, org, None, Some(&new.message_id))
                .await?
                .map_or(request_id, |e| e.request_id),
        };
        tracing::info!(%request_id, "inbound email threaded");
        Ok(pb::IngestEmailResponse {
            request_id: request_id.to_string(),
            dropped: false,
        })
    }

    /// The block covering this sender, asked of the blocking service (the
    /// authority; a sender with no conversation is in no local cache).
    async fn email_blocked(
        &self,
        who: &Principal,
        from: &EmailAddress,
    ) -> Result<Option<Uuid>, Error> {
        let check = CheckIdentitiesRequest {
            identities: vec![CustomerIdentity {
                kind: IdentityKind::Email as i32,
                value: from.as_str().to_owned(),
            }],
            ip_address: String::new(),
        };
        let check = livedesk_platform::peer::idempotent(|| async {
            let check = self.rt.peer_request(who.org_id, check.clone())?;
            self.blocking.clone().check_identities(check).await
        })
        .await
        .map_err(livedesk_platform::errors::peer("blocking"))?
        .into_inner();
        if !check.blocked {
            return Ok(None);
        }
        Uuid::parse_str(&check.block_id)
            .map(Some)
            .map_err(|_| PeerError::contract("blocking", "blocked without a block id").into())
    }

    /// Chat messages, emails and form copies (SCH-6) of a request in one
    /// chronological list.
    pub(super) async fn request_history(
        &self,
        req: Request<pb::GetRequestHistoryRequest>,
    ) -> Result<pb::GetRequestHistoryResponse, Error> {
        let who = principal(&req)?;
        let id = parse_uuid("request_id", &req.get_ref().request_id)?;
        visible_request(&self.db, &who, id).await?;
        let mask = masks_pii(&self.db, &who).await?;
        let chat = Emails::chat_of_request(&self.db, who.org_id, id).await?;
        let emails = Emails::for_request(&self.db, who.org_id, id).await?;
        let forms = FormCopies::for_request(&self.db, who.org_id, id).await?;
        let mut items: Vec<(chrono::DateTime<chrono::Utc>, Uuid, pb::HistoryItem)> = chat
            .iter()
            .map(|m| {
                (
                    m.created_at,
                    m.id,
                    pb::HistoryItem {
                        at: Some(to_proto(m.created_at)),
                        item: Some(pb::history_item::Item::Message(views::message(m, mask))),
                    },
                )
            })
            .chain(
                emails
                    .iter()
                    .map(|e| (e.created_at, e.id, email_view(e, mask))),
            )
            .chain(
                forms
                    .iter()
                    .map(|f| (f.submitted_at, f.id, form_view(f, mask))),
            )
            .collect();
        // Stable: equal times keep chat order, then email order.
        items.sort_by_key(|(at, ..)| *at);
        Ok(pb::GetRequestHistoryResponse {
            items: items.into_iter().map(|(.., i)| i).collect(),
        })
    }
}
