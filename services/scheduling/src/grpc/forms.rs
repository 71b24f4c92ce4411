//! Offline and contact forms (SCH-6): admins configure, visitors and the
//! widget backend read and submit, supervisors list submissions.
use livedesk_auth::{Role, principal};
use livedesk_platform::defaults::{default_contact_form_id, default_offline_form_id};
use livedesk_platform::errors::{FieldViolation, PeerError, parse_uuid, peer};
use livedesk_platform::identity::normalize;
use livedesk_platform::page::Page;
use livedesk_platform::time::to_proto;
use livedesk_proto::blocking::v1::CheckIdentitiesRequest;
use livedesk_proto::common::v1::{CustomerIdentity, IdentityKind};
use livedesk_proto::scheduling::v1 as pb;
use sea_orm::TransactionTrait;
use tonic::Request;
use uuid::Uuid;

use super::SchedulingGrpc;
use crate::domain::{FormSpec, RawField, Settings, built_in_fields};
use crate::error::{Entity, Error};
use crate::store::{FormRow, Forms, NewSubmission, SettingsStore, SubmissionRow};

type Result<T> = std::result::Result<T, Error>;

/// A form as it applies: stored, or the built-in default of its kind.
struct Resolved {
    id: Uuid,
    queue_id: Option<Uuid>,
    kind: pb::FormKind,
    enabled: bool,
    custom: Vec<RawField>,
    notify_email: String,
}

impl Resolved {
    fn built_in(org: Uuid, kind: pb::FormKind) -> Self {
        let (id, enabled) = match kind {
            pb::FormKind::Contact => (default_contact_form_id(org), false),
            _ => (default_offline_form_id(org), true),
        };
        Self {
            id,
            queue_id: None,
            kind,
            enabled,
            custom: Vec::new(),
            notify_email: String::new(),
        }
    }

    fn from_row(row: FormRow) -> Result<Self> {
        let custom = row
            .custom_fields()
            .ok_or_else(|| Error::Corrupt(format!("form {} fields", row.id)))?;
        let kind = pb::FormKind::try_from(row.kind)
            .map_err(|_| Error::Corrupt(format!("form {} kind", row.id)))?;
        Ok(Self {
            id: row.id,
            queue_id: row.queue_id,
            kind,
            enabled: row.enabled,
            custom,
            notify_email: row.notify_email,
        })
    }

    fn to_pb(&self) -> pb::Form {
        let field = |f: RawField| pb::FormField {
            key: f.key,
            label: f.label,
            r#type: f.kind,
            required: f.required,
            options: f.options,
            max_length: f.max_length,
            pattern: f.pattern,
            min: f.min,
            max: f.max,
        };
        pb::Form {
            id: self.id.to_string(),
            queue_id: self.queue_id.map(|q| q.to_string()).unwrap_or_default(),
            kind: self.kind as i32,
            enabled: self.enabled,
            fields: built_in_fields()
                .into_iter()
                .chain(self.custom.iter().cloned())
                .map(field)
                .collect(),
            notify_email: self.notify_email.clone(),
        }
    }
}

fn kind_of(raw: i32, field: &str) -> Result<pb::FormKind> {
    match pb::FormKind::try_from(raw) {
        Ok(k @ (pb::FormKind::Offline | pb::FormKind::Contact)) => Ok(k),
        _ => Err(FieldViolation::new(field, "required: offline or contact").into()),
    }
}

fn opt_queue(raw: &str, field: &str) -> Result<Option<Uuid>> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        Ok(Some(parse_uuid(field, raw)?))
    }
}

/// The submitter's IP, canonical; empty when not given.
fn parse_ip(raw: &str) -> Result<String> {
    match raw.trim() {
        "" => Ok(String::new()),
        raw => raw
            .parse::<std::net::IpAddr>()
            .map(|ip| ip.to_string())
            .map_err(|_| FieldViolation::new("ip_address", "not an IP address").into()),
    }
}

fn opt_uuid(raw: &str, field: &str) -> Result<Option<Uuid>> {
    opt_queue(raw, field)
}

/// A validated submission, before it is stored or dropped.
struct Submitted<'a> {
    form: &'a Resolved,
    values: &'a [(String, String)],
    conversation_id: Option<Uuid>,
}

impl Submitted<'_> {
    /// The answer to the submitter, shaped as a stored submission's.
    fn view(&self, id: Uuid, at: chrono::DateTime<chrono::Utc>) -> pb::FormSubmission {
        submission_view(
            id,
            self.form.id,
            self.form.kind as i32,
            self.values,
            at,
            self.form.queue_id,
            self.conversation_id,
        )
    }
}

/// The API view of a submission: one shape for a stored one and for the
/// answer to a dropped one (which must look the same, BLK-3).
fn submission_view(
    id: Uuid,
    form_id: Uuid,
    kind: i32,
    values: &[(String, String)],
    at: chrono::DateTime<chrono::Utc>,
    queue_id: Option<Uuid>,
    conversation_id: Option<Uuid>,
) -> pb::FormSubmission {
    pb::FormSubmission {
        id: id.to_string(),
        form_id: form_id.to_string(),
        kind,
        values: values
            .iter()
            .map(|(key, value)| pb::FieldValue {
                key: key.clone(),
                value: value.clone(),
            })
            .collect(),
        submitted_at: Some(to_proto(at)),
        dropped: false,
        queue_id: queue_id.map(|q| q.to_string()).unwrap_or_default(),
        conversation_id: conversation_id.map(|c| c.to_string()).unwrap_or_default(),
    }
}

fn submission(row: &SubmissionRow) -> pb::FormSubmission {
    submission_view(
        row.id,
        row.form_id,
        row.kind,
        &row.values,
        row.submitted_at,
        row.queue_id,
        row.conversation_id,
    )
}

impl SchedulingGrpc {
    pub(super) async fn upsert_form_impl(
        &self,
        req: Request<pb::UpsertFormRequest>,
    ) -> Result<pb::Form> {
        let who = principal(&req)?;
        who.require_admin("configure forms")?;
        let form = req
            .get_ref()
            .form
            .as_ref()
            .ok_or_else(|| FieldViolation::new("form", "required"))?;
        let mut violations = Vec::new();
        let kind = kind_of(form.kind, "form.kind")
            .map_err(|e| {
                if let Error::Invalid(v) = e {
                    violations.extend(v)
                }
            })
            .ok();
        let queue = opt_queue(&form.queue_id, "form.queue_id")
            .map_err(|e| {
                if let Error::Invalid(v) = e {
                    violations.extend(v)
                }
            })
            .ok();
        let raw: Vec<RawField> = form
            .fields
            .iter()
            // The built-in fields come back from GetForm; saving them again is not a duplicate.
            .filter(|f| !crate::domain::BUILT_IN.contains(&f.key.as_str()))
            .map(|f| RawField {
                key: f.key.clone(),
                label: f.label.clone(),
                kind: f.r#type,
                required: f.required,
                options: f.options.clone(),
                max_length: f.max_length,
                pattern: f.pattern.clone(),
                min: f.min,
                max: f.max,
            })
            .collect();
        let spec = FormSpec::parse(&raw, "form.fields")
            .map_err(|v| violations.extend(v))
            .ok();
        let notify = match form.notify_email.trim() {
            "" => String::new(),
            raw => livedesk_platform::EmailAddress::parse(raw)
                .map(livedesk_platform::EmailAddress::into_string)
                .unwrap_or_else(|_| {
                    violations.push(FieldViolation::new(
                        "form.notify_email",
                        "not an email address",
                    ));
                    String::new()
                }),
        };
        let (Some(kind), Some(queue), Some(spec)) = (kind, queue, spec) else {
            return Err(Error::Invalid(violations));
        };
        if !violations.is_empty() {
            return Err(Error::Invalid(violations));
        }
        let new_id = match (queue, kind) {
            (None, pb::FormKind::Contact) => default_contact_form_id(who.org_id),
            (None, _) => default_offline_form_id(who.org_id),
            (Some(_), _) => Uuid::now_v7(),
        };
        let custom = spec.custom();
        let id = Forms::upsert(
            &self.db,
            who.org_id,
            new_id,
            queue,
            kind as i32,
            form.enabled,
            &custom,
            &notify,
        )
        .await?;
        self.cache.invalidate(who.org_id);
        tracing::info!(org_id = %who.org_id, form_id = %id, "form saved");
        let resolved = Resolved {
            id,
            queue_id: queue,
            kind,
            enabled: form.enabled,
            custom,
            notify_email: notify,
        };
        Ok(resolved.to_pb())
    }

    async fn resolve(
        &self,
        org: Uuid,
        queue: Option<Uuid>,
        kind: pb::FormKind,
    ) -> Result<Resolved> {
        if let Some(q) = queue
            && let Some(row) = Forms::by_scope(&self.db, org, Some(q), kind as i32).await?
        {
            return Resolved::from_row(row);
        }
        match Forms::by_scope(&self.db, org, None, kind as i32).await? {
            Some(row) => Resolved::from_row(row),
            None => Ok(Resolved::built_in(org, kind)),
        }
    }

    pub(super) async fn get_form_impl(&self, req: Request<pb::GetFormRequest>) -> Result<pb::Form> {
        let who = principal(&req)?;
        let body = req.get_ref();
        let kind = kind_of(body.kind, "kind")?;
        let queue = opt_queue(&body.queue_id, "queue_id")?;
        Ok(self.resolve(who.org_id, queue, kind).await?.to_pb())
    }

    pub(super) async fn submit_form_impl(
        &self,
        req: Request<pb::SubmitFormRequest>,
    ) -> Result<pb::FormSubmission> {
        let who = principal(&req)?;
        let body = req.get_ref();
        let form_id = parse_uuid("form_id", &body.form_id)?;
        let ip = parse_ip(&body.ip_address)?;
        let conversation_id = opt_uuid(&body.conversation_id, "conversation_id")?;
        let key = Some(body.client_request_id.trim()).filter(|k| !k.is_empty());
        if let Some(k) = key
            && let Some(existing) =
                Forms::submission_by_client_request(&self.db, who.org_id, k).await?
        {
            return Ok(submission(&existing));
        }
        let form = match Forms::by_id(&self.db, who.org_id, form_id).await? {
            Some(row) => Resolved::from_row(row)?,
            None if form_id == default_offline_form_id(who.org_id) => {
                Resolved::built_in(who.org_id, pb::FormKind::Offline)
            }
            None if form_id == default_contact_form_id(who.org_id) => {
                Resolved::built_in(who.org_id, pb::FormKind::Contact)
            }
            None => return Err(Error::NotFound(Entity::Form)),
        };
        if !form.enabled {
            return Err(Error::FormDisabled);
        }
        let spec = FormSpec::parse(&form.custom, "fields")
            .map_err(|_| Error::Corrupt(format!("form {} definition", form.id)))?;
        let values: Vec<(String, String)> = body
            .values
            .iter()
            .map(|v| (v.key.trim().to_owned(), v.value.clone()))
            .collect();
        let clean = spec.validate(&values)?;
        // A visitor submits as themselves, whatever the body says.
        let visitor_id = if who.role == Role::Visitor {
            who.id.clone()
        } else {
            body.visitor_id.trim().to_owned()
        };
        let submitted = Submitted {
            form: &form,
            values: &clean,
            conversation_id,
        };
        if let Some(k) = key
            && let Some(d) = Forms::dropped_by_client_request(&self.db, who.org_id, k).await?
        {
            return Ok(submitted.view(d.id, d.dropped_at));
        }
        // BLK-3, BLK-9: asked before anything is stored; blocking down is
        // UNAVAILABLE (fail closed), never "not blocked".
        if let Some(block_id) = self
            .blocked_submitter(who.org_id, &clean, &visitor_id, &ip)
            .await?
        {
            return self
                .drop_submission(who.org_id, key, &submitted, block_id)
                .await;
        }
        let settings: Settings = SettingsStore::get(&self.db, who.org_id).await?;
        let notify_email = if form.notify_email.is_empty() {
            settings.notify_email
        } else {
            form.notify_email.clone()
        };
        let id = Uuid::now_v7();
        let txn = self.db.begin().await?;
        let new = NewSubmission {
            id,
            org: who.org_id,
            form_id: form.id,
            kind: form.kind as i32,
            queue_id: form.queue_id,
            values: &clean,
            visitor_id: &visitor_id,
            client_request_id: key,
            conversation_id,
        };
        if !Forms::insert_submission(&txn, &new).await? {
            txn.rollback().await?;
            let existing = match key {
                Some(k) => Forms::submission_by_client_request(&self.db, who.org_id, k).await?,
                None => None,
            };
            return existing
                .map(|e| submission(&e))
                .ok_or(Error::Corrupt("submission conflicted without a key".into()));
        }
        let row = Forms::submission(&txn, who.org_id, id)
            .await?
            .ok_or(Error::NotFound(Entity::Submission))?;
        let view = submission(&row);
        let event = pb::FormSubmitted {
            submission: Some(view.clone()),
            notify_email,
            visitor_id,
        };
        let staged = self.outbox.stage(&txn, who.org_id, id, &event).await?;
        txn.commit().await?;
        self.outbox.publish(vec![staged]).await;
        tracing::info!(org_id = %who.org_id, form_id = %form.id, submission_id = %id, "form submitted");
        Ok(view)
    }

    /// The block that covers the submitter's email, visitor id or IP.
    async fn blocked_submitter(
        &self,
        org: Uuid,
        values: &[(String, String)],
        visitor_id: &str,
        ip: &str,
    ) -> Result<Option<Uuid>> {
        let mut identities = Vec::new();
        if let Some((_, email)) = values.iter().find(|(k, _)| k == "email") {
            let email = normalize(IdentityKind::Email, email)?;
            identities.push(CustomerIdentity {
                kind: IdentityKind::Email as i32,
                value: email,
            });
        }
        if !visitor_id.is_empty() {
            identities.push(CustomerIdentity {
                kind: IdentityKind::WebVisitor as i32,
                value: visitor_id.to_owned(),
            });
        }
        let check = CheckIdentitiesRequest {
            identities,
            ip_address: ip.to_owned(),
        };
        let verdict = livedesk_platform::peer::idempotent(|| async {
            let check = self.rt.peer_request(org, check.clone())?;
            self.blocking.clone().check_identities(check).await
        })
        .await
        .map_err(peer("blocking"))?
        .into_inner();
        if !verdict.blocked {
            return Ok(None);
        }
        Uuid::parse_str(&verdict.block_id)
            .map(Some)
            .map_err(|_| PeerError::contract("blocking", "blocked without a block id").into())
    }

    /// Drops a blocked submitter's submission (BLK-3): nothing stored,
    /// emailed or copied; `FormSubmissionDropped` lets blocking count it.
    /// The answer looks like a stored submission's, so the block is not
    /// revealed (as a blocked customer's chat message is dropped silently).
    async fn drop_submission(
        &self,
        org: Uuid,
        key: Option<&str>,
        s: &Submitted<'_>,
        block_id: Uuid,
    ) -> Result<pb::FormSubmission> {
        let id = Uuid::now_v7();
        let txn = self.db.begin().await?;
        if let Some(k) = key
            && !Forms::insert_dropped(&txn, org, id, k, s.form.id, block_id).await?
        {
            // The same key raced with itself: answer as the first did.
            txn.rollback().await?;
            let first = Forms::dropped_by_client_request(&self.db, org, k)
                .await?
                .ok_or(Error::Corrupt("dropped submission conflicted".into()))?;
            return Ok(s.view(first.id, first.dropped_at));
        }
        let event = pb::FormSubmissionDropped {
            block_id: block_id.to_string(),
            form_id: s.form.id.to_string(),
            kind: s.form.kind as i32,
            queue_id: s.form.queue_id.map(|q| q.to_string()).unwrap_or_default(),
            conversation_id: s.conversation_id.map(|c| c.to_string()).unwrap_or_default(),
        };
        // Aggregate = the block: its drops are counted in order, in one lane.
        let staged = self.outbox.stage(&txn, org, block_id, &event).await?;
        txn.commit().await?;
        self.outbox.publish(vec![staged]).await;
        tracing::info!(org_id = %org, form_id = %s.form.id, %block_id, "form submission from a blocked submitter dropped");
        Ok(s.view(id, chrono::Utc::now()))
    }

    pub(super) async fn list_submissions_impl(
        &self,
        req: Request<pb::ListFormSubmissionsRequest>,
    ) -> Result<pb::ListFormSubmissionsResponse> {
        let who = principal(&req)?;
        who.require_supervisor("list form submissions")?;
        let page = Page::parse(req.get_ref().page.as_ref())?;
        let rows = Forms::list_submissions(&self.db, who.org_id, page.after, page.size).await?;
        let last = rows.last().map(|r| (r.submitted_at, r.id));
        Ok(pb::ListFormSubmissionsResponse {
            page: Some(page.response(rows.len(), last)),
            submissions: rows.iter().map(submission).collect(),
        })
    }
}
