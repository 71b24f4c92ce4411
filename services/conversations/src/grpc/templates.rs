//! Canned responses (CNV-5): saved by supervisors and admins with their
//! placeholders checked, rendered for an agent into editable text.
use livedesk_auth::principal;
use livedesk_platform::errors::{FieldViolation, parse_uuid};
use livedesk_platform::time::to_proto;
use livedesk_proto::conversations::v1 as pb;
use tonic::Request;

use super::access::visible;
use super::service::ConversationsGrpc;
use crate::domain::{TemplateBody, TemplateValues};
use crate::error::{Entity, Error};
use crate::store::{TemplateRow, Templates};
use crate::views::display_name;

fn view(row: &TemplateRow) -> pb::Template {
    pb::Template {
        id: row.id.to_string(),
        name: row.name.clone(),
        body: row.body.clone(),
        updated_at: Some(to_proto(row.updated_at)),
    }
}

/// Validates a name and a body together, reporting both.
fn parse(name: &str, body: &str) -> Result<(String, TemplateBody), Error> {
    let mut v = Vec::new();
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        v.push(FieldViolation::new("name", "1 to 100 characters"));
    }
    let body = TemplateBody::parse(body).map_err(|e| v.push(e)).ok();
    match body {
        Some(body) if v.is_empty() => Ok((name.to_owned(), body)),
        _ => Err(Error::Invalid(v)),
    }
}

impl ConversationsGrpc {
    pub(super) async fn create_template(
        &self,
        req: Request<pb::CreateTemplateRequest>,
    ) -> Result<pb::Template, Error> {
        let who = principal(&req)?;
        who.require_supervisor("create a template")?;
        let (name, body) = parse(&req.get_ref().name, &req.get_ref().body)?;
        let row = Templates::insert(&self.db, who.org_id, &name, body.as_str())
            .await?
            .ok_or(Error::TemplateNameTaken)?;
        Ok(view(&row))
    }

    pub(super) async fn update_template(
        &self,
        req: Request<pb::UpdateTemplateRequest>,
    ) -> Result<pb::Template, Error> {
        let who = principal(&req)?;
        who.require_supervisor("change a template")?;
        let t = req.get_ref().template.clone().unwrap_or_default();
        let id = parse_uuid("template.id", &t.id)?;
        let (name, body) = parse(&t.name, &t.body)?;
        let row = Templates::update(&self.db, who.org_id, id, &name, body.as_str())
            .await
            .map_err(|e| {
                if livedesk_platform::db::is_unique_violation_of(&e, "templates_name") {
                    Error::TemplateNameTaken
                } else {
                    e.into()
                }
            })?;
        Ok(view(&row.ok_or(Error::NotFound(Entity::Template))?))
    }

    pub(super) async fn delete_template(
        &self,
        req: Request<pb::DeleteTemplateRequest>,
    ) -> Result<pb::DeleteTemplateResponse, Error> {
        let who = principal(&req)?;
        who.require_supervisor("delete a template")?;
        let id = parse_uuid("id", &req.get_ref().id)?;
        if !Templates::delete(&self.db, who.org_id, id).await? {
            return Err(Error::NotFound(Entity::Template));
        }
        Ok(pb::DeleteTemplateResponse {})
    }

    pub(super) async fn list_templates(
        &self,
        req: Request<pb::ListTemplatesRequest>,
    ) -> Result<pb::ListTemplatesResponse, Error> {
        let who = principal(&req)?;
        who.require_staff("list templates")?;
        Ok(pb::ListTemplatesResponse {
            templates: Templates::list(&self.db, who.org_id)
                .await?
                .iter()
                .map(view)
                .collect(),
        })
    }

    /// The template's text for this conversation, ready to edit and send.
    pub(super) async fn render_template(
        &self,
        req: Request<pb::RenderTemplateRequest>,
    ) -> Result<pb::RenderTemplateResponse, Error> {
        let who = principal(&req)?;
        who.require_staff("render a template")?;
        let body = req.get_ref();
        let mut v = Vec::new();
        let tid = parse_uuid("template_id", &body.template_id)
            .map_err(|e| v.push(e))
            .ok();
        let cid = parse_uuid("conversation_id", &body.conversation_id)
            .map_err(|e| v.push(e))
            .ok();
        let (Some(tid), Some(cid)) = (tid, cid) else {
            return Err(Error::Invalid(v));
        };
        let template = Templates::get(&self.db, who.org_id, tid)
            .await?
            .ok_or(Error::NotFound(Entity::Template))?;
        let conv = visible(&self.db, &who, cid).await?;
        // Saved bodies were checked at save time; a failure here means the
        // row was changed behind the service's back.
        let parsed = TemplateBody::parse(&template.body)?;
        let values = TemplateValues {
            customer_name: display_name(&conv.customer_name),
            agent_name: who.name.clone().unwrap_or_else(|| who.id.clone()),
            request_id: conv.request_id.to_string(),
            conversation_id: conv.id.to_string(),
        };
        Ok(pb::RenderTemplateResponse {
            text: parsed.render(&values),
        })
    }
}
