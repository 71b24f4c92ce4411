//! Requests and contacts (CNV-1, CNV-7, CNV-15): read, list, update,
//! assign (with initials), and contacts created, searched and attached.
//! Visitors see only their own requests; everything else is staff's.
use livedesk_auth::{Principal, Role, principal};
use livedesk_platform::EmailAddress;
use livedesk_platform::errors::{FieldViolation, parse_uuid};
use livedesk_platform::page::Page;
use livedesk_proto::common::v1::IdentityKind;
use livedesk_proto::conversations::v1 as pb;
use sea_orm::TransactionTrait;
use tonic::Request;
use uuid::Uuid;

use super::access::{masks_pii, scoped_agent};
use super::service::ConversationsGrpc;
use crate::domain::{
    ContactQuery, Priority, Qualification, initials, parse_initials, parse_request_status,
};
use crate::error::{Entity, Error};
use crate::store::{RequestChange, RequestFilter, Requests};
use crate::views;

pub(super) use super::access::visible_request;

fn collect<T>(r: Result<T, FieldViolation>, v: &mut Vec<FieldViolation>) -> Option<T> {
    r.map_err(|e| v.push(e)).ok()
}

impl ConversationsGrpc {
    async fn request_view(&self, who: &Principal, id: Uuid) -> Result<pb::Request, Error> {
        let row = visible_request(&self.db, who, id).await?;
        Ok(views::request(&row, masks_pii(&self.db, who).await?))
    }

    /// The request after a change `who` was allowed to make (checked with
    /// `visible_request` before it): an agent who assigned it away still
    /// gets the result of their own call.
    async fn request_changed(&self, who: &Principal, id: Uuid) -> Result<pb::Request, Error> {
        let row = Requests::get(&self.db, who.org_id, id)
            .await?
            .ok_or(Error::NotFound(Entity::Request))?;
        Ok(views::request(&row, masks_pii(&self.db, who).await?))
    }

    /// One request (CNV-1).
    pub(super) async fn get_request(
        &self,
        req: Request<pb::GetRequestRequest>,
    ) -> Result<pb::Request, Error> {
        let who = principal(&req)?;
        let id = parse_uuid("id", &req.get_ref().id)?;
        self.request_view(&who, id).await
    }

    /// Requests by status, assignee, tag and priority, newest first (CNV-15).
    pub(super) async fn list_requests(
        &self,
        req: Request<pb::ListRequestsRequest>,
    ) -> Result<pb::ListRequestsResponse, Error> {
        let who = principal(&req)?;
        let body = req.get_ref();
        let mut v = Vec::new();
        let page = collect(Page::parse(body.page.as_ref()), &mut v);
        let status = collect(parse_request_status("status", body.status), &mut v).flatten();
        let priority = collect(Priority::parse("priority", body.priority), &mut v).flatten();
        let Some(page) = page.filter(|_| v.is_empty()) else {
            return Err(Error::Invalid(v));
        };
        let filter = RequestFilter {
            status,
            assignee_id: Some(body.assignee_id.trim().to_owned()).filter(|s| !s.is_empty()),
            tag: Some(body.tag.trim().to_owned()).filter(|s| !s.is_empty()),
            priority: priority.map(|p| p as i32),
            customer: (who.role == Role::Visitor).then(|| who.id.clone()),
            visible_to_agent: scoped_agent(&who),
        };
        let rows = Requests::list(&self.db, who.org_id, &filter, page.after, page.size).await?;
        let mask = masks_pii(&self.db, &who).await?;
        let last = rows.last().map(|r| (r.created_at, r.id));
        Ok(pb::ListRequestsResponse {
            page: Some(page.response(rows.len(), last)),
            requests: rows.iter().map(|r| views::request(r, mask)).collect(),
        })
    }

    /// Changes status, priority, reason and tags (staff). Unspecified or
    /// empty fields keep their value.
    pub(super) async fn update_request(
        &self,
        req: Request<pb::UpdateRequestRequest>,
    ) -> Result<pb::Request, Error> {
        let who = principal(&req)?;
        who.require_staff("update a request")?;
        let body = req.get_ref();
        let mut v = Vec::new();
        let id = collect(parse_uuid("id", &body.id), &mut v);
        let status = collect(parse_request_status("status", body.status), &mut v).flatten();
        let priority = collect(Priority::parse("priority", body.priority), &mut v).flatten();
        let q = Qualification::parse(&body.tags, &body.contact_reason, "")
            .map_err(|e| {
                v.extend(e.into_iter().map(|f| {
                    FieldViolation::new(f.field.trim_start_matches("qualification."), f.description)
                }))
            })
            .ok();
        let (Some(id), Some(q)) = (id, q) else {
            return Err(Error::Invalid(v));
        };
        if !v.is_empty() {
            return Err(Error::Invalid(v));
        }
        let change = RequestChange {
            status,
            priority: priority.map(|p| p as i32),
            contact_reason: Some(q.contact_reason).filter(|r| !r.is_empty()),
            tags: Some(q.tags).filter(|t| !t.is_empty()),
        };
        visible_request(&self.db, &who, id).await?;
        if !Requests::update(&self.db, who.org_id, id, &change).await? {
            return Err(Error::NotFound(Entity::Request));
        }
        self.request_changed(&who, id).await
    }

    /// Assigns to the caller (empty assignee) or to another agent, with
    /// the initials shown on the request (CNV-7); announces `RequestAssigned`.
    pub(super) async fn assign_request(
        &self,
        req: Request<pb::AssignRequestRequest>,
    ) -> Result<pb::Request, Error> {
        let who = principal(&req)?;
        who.require_staff("assign a request")?;
        let org = who.org_id;
        let body = req.get_ref();
        let mut v = Vec::new();
        let id = collect(parse_uuid("id", &body.id), &mut v);
        let given = collect(
            parse_initials("assignee_initials", &body.assignee_initials),
            &mut v,
        );
        let assignee = body.assignee_id.trim();
        if assignee.chars().count() > 200 {
            v.push(FieldViolation::new("assignee_id", "at most 200 characters"));
        }
        if assignee.is_empty() && who.role == Role::Service {
            v.push(FieldViolation::new(
                "assignee_id",
                "a service must name the assignee",
            ));
        }
        let (Some(id), Some(given)) = (id, given) else {
            return Err(Error::Invalid(v));
        };
        if !v.is_empty() {
            return Err(Error::Invalid(v));
        }
        let (assignee, name) = if assignee.is_empty() {
            (who.id.clone(), who.name.clone())
        } else {
            let name = Requests::display_name(&self.db, org, assignee).await?;
            (assignee.to_owned(), name)
        };
        let initials = given.unwrap_or_else(|| initials(name.as_deref().unwrap_or(&assignee)));
        visible_request(&self.db, &who, id).await?;
        let txn = self.db.begin().await?;
        if !Requests::assign(&txn, org, id, &assignee, &initials).await? {
            return Err(Error::NotFound(Entity::Request));
        }
        let event = pb::RequestAssigned {
            request_id: id.to_string(),
            assignee_id: assignee.clone(),
        };
        let staged = self.outbox.stage(&txn, org, id, &event).await?;
        txn.commit().await?;
        self.outbox.publish(vec![staged]).await;
        self.request_changed(&who, id).await
    }

    /// Creates a contact (staff): a name, email or phone at least.
    pub(super) async fn create_contact(
        &self,
        req: Request<pb::CreateContactRequest>,
    ) -> Result<pb::Contact, Error> {
        let who = principal(&req)?;
        who.require_staff("create a contact")?;
        let body = req.get_ref();
        let mut v = Vec::new();
        let name = body.name.trim();
        if name.chars().count() > 200 || name.chars().any(char::is_control) {
            v.push(FieldViolation::new(
                "name",
                "at most 200 characters, one line",
            ));
        }
        let email = match body.email.trim() {
            "" => String::new(),
            raw => collect(EmailAddress::parse_field("email", raw), &mut v)
                .map(|e| e.as_str().to_owned())
                .unwrap_or_default(),
        };
        let phone = match body.phone.trim() {
            "" => String::new(),
            // Checked as a phone number, kept as written (masking follows
            // the written form, CNV-9); searches compare digits only.
            raw => collect(
                livedesk_platform::identity::normalize(IdentityKind::Phone, raw)
                    .map(|_| raw.to_owned())
                    .map_err(|e| FieldViolation::new("phone", e.description)),
                &mut v,
            )
            .unwrap_or_default(),
        };
        if name.is_empty() && body.email.trim().is_empty() && body.phone.trim().is_empty() {
            v.push(FieldViolation::new(
                "name",
                "a contact needs a name, an email or a phone",
            ));
        }
        if !v.is_empty() {
            return Err(Error::Invalid(v));
        }
        let row = Requests::create_contact(&self.db, who.org_id, name, &email, &phone)
            .await?
            .ok_or(Error::NotFound(Entity::Contact))?;
        Ok(views::contact(&row, false))
    }

    /// Contacts by name, email or phone (staff; masked per CNV-9).
    pub(super) async fn search_contacts(
        &self,
        req: Request<pb::SearchContactsRequest>,
    ) -> Result<pb::SearchContactsResponse, Error> {
        let who = principal(&req)?;
        who.require_staff("search contacts")?;
        let body = req.get_ref();
        let mut v = Vec::new();
        let q = collect(ContactQuery::parse("query", &body.query), &mut v);
        let page = collect(Page::parse(body.page.as_ref()), &mut v);
        let (Some(q), Some(page)) = (q, page) else {
            return Err(Error::Invalid(v));
        };
        let rows =
            Requests::search_contacts(&self.db, who.org_id, &q, page.after, page.size).await?;
        let mask = masks_pii(&self.db, &who).await?;
        let last = rows.last().map(|r| (r.created_at, r.id));
        Ok(pb::SearchContactsResponse {
            page: Some(page.response(rows.len(), last)),
            contacts: rows.iter().map(|r| views::contact(r, mask)).collect(),
        })
    }

    /// Attaches a contact to a request (staff).
    pub(super) async fn attach_contact(
        &self,
        req: Request<pb::AttachContactRequest>,
    ) -> Result<pb::Request, Error> {
        let who = principal(&req)?;
        who.require_staff("attach a contact")?;
        let body = req.get_ref();
        let mut v = Vec::new();
        let id = collect(parse_uuid("request_id", &body.request_id), &mut v);
        let contact = collect(parse_uuid("contact_id", &body.contact_id), &mut v);
        let (Some(id), Some(contact)) = (id, contact) else {
            return Err(Error::Invalid(v));
        };
        visible_request(&self.db, &who, id).await?;
        if !Requests::attach_contact(&self.db, who.org_id, id, contact).await? {
            return Err(Error::NotFound(Entity::RequestOrContact));
        }
        self.request_changed(&who, id).await
    }
}
