//! Wrap-up (RTG-9): submitting a code, the org's codes, and the org's
//! routing settings (auto-wrap-up delay).
use livedesk_auth::principal;
use livedesk_platform::errors::{FieldViolation, parse_uuid};
use livedesk_proto::routing::v1 as pb;
use sea_orm::TransactionTrait;
use tonic::Request;

use super::{RoutingGrpc, acting_agent};
use crate::domain::{AutoWrapUp, WrapUpCodeText, WrapUpCodes};
use crate::engine::finish_wrap_up;
use crate::error::{Entity, Error};
use crate::store::{Agents, Legs, Orgs};
use crate::views;

fn codes_view(codes: Vec<(String, String)>) -> pb::ListWrapUpCodesResponse {
    pb::ListWrapUpCodesResponse {
        codes: codes
            .into_iter()
            .map(|(code, label)| pb::WrapUpCode { code, label })
            .collect(),
    }
}

impl RoutingGrpc {
    pub(super) async fn submit_wrap_up(
        &self,
        req: Request<pb::SubmitWrapUpRequest>,
    ) -> Result<pb::WrapUp, Error> {
        let who = acting_agent(&req, "submit a wrap-up")?;
        let body = req.get_ref();
        let mut violations = Vec::new();
        let conversation = parse_uuid("conversation_id", &body.conversation_id)
            .map_err(|v| violations.push(v))
            .ok();
        let code = WrapUpCodeText::parse(&body.code, "code")
            .map_err(|v| violations.push(v))
            .ok();
        let (Some(conversation), Some(code)) = (conversation, code) else {
            return Err(Error::Invalid(violations));
        };
        let txn = self.db.begin().await?;
        Orgs::ensure(&txn, who.org_id).await?;
        if !Orgs::has_code(&txn, who.org_id, code.as_str()).await? {
            txn.rollback().await?;
            return Err(FieldViolation::new("code", "not one of the org's wrap-up codes").into());
        }
        let Some(leg) =
            Legs::submit(&txn, who.org_id, conversation, &who.id, code.as_str()).await?
        else {
            let legs = Legs::of_conversation(&txn, who.org_id, conversation).await?;
            txn.rollback().await?;
            let mine: Vec<_> = legs.iter().filter(|l| l.agent_id == who.id).collect();
            // A retry of a submitted wrap-up returns the first result (TEN-5).
            if let Some(done) = mine.last()
                && done.status == "done"
                && !done.wrap_up_automatic
                && done.wrap_up_code.as_deref() == Some(code.as_str())
            {
                return Ok(views::wrap_up(done));
            }
            return Err(if mine.is_empty() {
                Error::NotFound(Entity::Conversation)
            } else if mine.iter().any(|l| l.status == "active") {
                Error::NotEnded
            } else {
                Error::AlreadyWrappedUp
            });
        };
        let staged = finish_wrap_up(&self.outbox, &txn, &leg).await?;
        let agent = Agents::get(&txn, who.org_id, &who.id).await?;
        self.commit(txn, staged).await?;
        // Capacity freed: waiting conversations may go to this agent now.
        if let Some(agent) = agent {
            self.router.kick_queues(who.org_id, &agent.queue_ids);
        }
        Ok(views::wrap_up(&leg))
    }

    pub(super) async fn list_wrap_up_codes(
        &self,
        req: Request<pb::ListWrapUpCodesRequest>,
    ) -> Result<pb::ListWrapUpCodesResponse, Error> {
        let who = principal(&req)?;
        who.require_staff("list wrap-up codes")?;
        Orgs::ensure(&self.db, who.org_id).await?;
        Ok(codes_view(Orgs::codes(&self.db, who.org_id).await?))
    }

    pub(super) async fn set_wrap_up_codes(
        &self,
        req: Request<pb::SetWrapUpCodesRequest>,
    ) -> Result<pb::ListWrapUpCodesResponse, Error> {
        let who = principal(&req)?;
        who.require_admin("set wrap-up codes")?;
        let raw: Vec<(String, String)> = req
            .get_ref()
            .codes
            .iter()
            .map(|c| (c.code.clone(), c.label.clone()))
            .collect();
        let codes = WrapUpCodes::parse(&raw).map_err(Error::Invalid)?;
        let txn = self.db.begin().await?;
        Orgs::ensure(&txn, who.org_id).await?;
        Orgs::set_codes(&txn, who.org_id, &codes).await?;
        let out = Orgs::codes(&txn, who.org_id).await?;
        txn.commit().await?;
        Ok(codes_view(out))
    }

    pub(super) async fn get_routing_settings(
        &self,
        req: Request<pb::GetRoutingSettingsRequest>,
    ) -> Result<pb::RoutingSettings, Error> {
        let who = principal(&req)?;
        who.require_staff("read routing settings")?;
        Orgs::ensure(&self.db, who.org_id).await?;
        let secs = Orgs::auto_wrap_up_seconds(&self.db, who.org_id).await?;
        Ok(pb::RoutingSettings {
            auto_wrap_up_seconds: u32::try_from(secs).unwrap_or(300),
        })
    }

    pub(super) async fn update_routing_settings(
        &self,
        req: Request<pb::RoutingSettings>,
    ) -> Result<pb::RoutingSettings, Error> {
        let who = principal(&req)?;
        who.require_admin("change routing settings")?;
        let secs = AutoWrapUp::parse(req.get_ref().auto_wrap_up_seconds)?;
        let txn = self.db.begin().await?;
        Orgs::ensure(&txn, who.org_id).await?;
        Orgs::set_auto_wrap_up_seconds(&txn, who.org_id, secs.seconds()).await?;
        txn.commit().await?;
        Ok(pb::RoutingSettings {
            auto_wrap_up_seconds: secs.seconds(),
        })
    }
}
