//! `BlockingService` handlers: authenticate, parse, call the store inside
//! a transaction with the outbox, publish after commit.
use chrono::Utc;
use livedesk_auth::{Role, principal};
use livedesk_events::Outbox;
use livedesk_platform::errors::{FieldViolation, PeerError, parse_uuid};
use livedesk_platform::page::Page;
use livedesk_platform::runtime::forwarded;
use livedesk_platform::time::{from_proto, to_proto};
use livedesk_proto::blocking::v1 as pb;
use livedesk_proto::blocking::v1::blocking_service_server::BlockingService;
use livedesk_proto::common::v1 as common;
use livedesk_proto::conversations::v1::conversations_service_client::ConversationsServiceClient;
use livedesk_proto::conversations::v1::{ConversationStatus, GetCustomerIdentitiesRequest};
use sea_orm::{DatabaseConnection, TransactionTrait};
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

use crate::cache::BlockCache;
use crate::domain::{BlockRequest, IpBlockRequest, Reason};
use crate::error::Error;
use crate::store::{Blocks, NewBlock};
use crate::views;

/// The gRPC service.
#[derive(Clone)]
pub struct BlockingGrpc {
    pub db: DatabaseConnection,
    pub outbox: Outbox,
    pub conversations: ConversationsServiceClient<Channel>,
    /// Answers `CheckIdentities` (from memory when it can, `crate::cache`).
    pub checks: BlockCache,
}

type Result<T> = std::result::Result<Response<T>, Status>;

impl BlockingGrpc {
    /// Reads the changed block back inside `txn`, stages `event` with its
    /// full view (services need the clear identities), commits, publishes,
    /// and returns the view people see (identities masked).
    async fn commit_block<E: livedesk_proto::EventType>(
        &self,
        txn: sea_orm::DatabaseTransaction,
        org: uuid::Uuid,
        id: uuid::Uuid,
        event: impl FnOnce(pb::Block) -> E,
    ) -> std::result::Result<pb::Block, Error> {
        let row = Blocks::get(&txn, org, id)
            .await?
            .ok_or(Error::BlockNotFound)?;
        let now = Utc::now();
        let staged = self
            .outbox
            .stage(&txn, org, id, &event(views::block(&row, now, false)))
            .await?;
        txn.commit().await?;
        self.outbox.publish(vec![staged]).await;
        Ok(views::block(&row, now, true))
    }

    async fn block_customer(
        &self,
        req: Request<pb::BlockCustomerRequest>,
    ) -> std::result::Result<pb::Block, Error> {
        let who = principal(&req)?;
        who.require(
            &[Role::Agent, Role::Supervisor, Role::Admin],
            "block a customer",
        )?;
        let body = req.get_ref();
        let now = Utc::now();
        let parsed = BlockRequest::parse(
            &body.conversation_id,
            &body.reason,
            body.expires_at.as_ref().and_then(from_proto),
            now,
        )
        .map_err(Error::Invalid)?;
        let key = Some(body.client_request_id.trim()).filter(|k| !k.is_empty());
        if let Some(k) = key
            && let Some(existing) = Blocks::by_client_request(&self.db, who.org_id, k).await?
        {
            return Ok(views::block(&existing, now, true));
        }
        // The caller's own token: conversations decides whether this agent
        // may see the conversation (TEN-3), and answers NOT_FOUND otherwise.
        let identities = livedesk_platform::peer::idempotent(|| {
            let ask = forwarded(
                &req,
                GetCustomerIdentitiesRequest {
                    conversation_id: parsed.conversation_id.to_string(),
                },
            );
            let mut conversations = self.conversations.clone();
            async move { conversations.get_customer_identities(ask).await }
        })
        .await
        .map_err(livedesk_platform::errors::peer("conversations"))?
        .into_inner();
        let open = matches!(
            ConversationStatus::try_from(identities.status),
            Ok(ConversationStatus::Queued
                | ConversationStatus::Active
                | ConversationStatus::Paused)
        );
        if !open {
            return Err(Error::ConversationNotOpen);
        }
        let normalized = livedesk_platform::identity::normalize_all(&identities.identities)?;
        // Stored as a label: a number outside the enum is conversations
        // breaking the contract, not a channel to store as "unspecified".
        let channel = common::Channel::try_from(identities.channel).map_err(|_| {
            PeerError::contract(
                "conversations",
                &format!("unknown channel {}", identities.channel),
            )
        })?;
        let txn = self.db.begin().await?;
        let id = Blocks::insert(
            &txn,
            &NewBlock {
                org_id: who.org_id,
                conversation_id: Some(parsed.conversation_id),
                channel,
                customer_name: &identities.customer_name,
                ip_cidr: None,
                reason: parsed.reason.as_str(),
                blocked_by: &who.id,
                expires_at: parsed.expires_at,
                identities: &normalized,
                client_request_id: key,
            },
        )
        .await?;
        let Some(id) = id else {
            txn.rollback().await?;
            // Same key raced with itself: return the winner's result.
            if let Some(k) = key
                && let Some(existing) = Blocks::by_client_request(&self.db, who.org_id, k).await?
            {
                return Ok(views::block(&existing, now, true));
            }
            return Err(Error::CustomerAlreadyBlocked);
        };
        let view = self
            .commit_block(txn, who.org_id, id, |block| pb::CustomerBlocked {
                block: Some(block),
            })
            .await?;
        tracing::info!(block_id = %id, conversation_id = %parsed.conversation_id, "customer blocked");
        Ok(view)
    }

    async fn unblock(
        &self,
        req: Request<pb::UnblockCustomerRequest>,
    ) -> std::result::Result<pb::Block, Error> {
        let who = principal(&req)?;
        // BLK-5: admins only (not supervisors, not services).
        who.require(&[Role::Admin], "unblock a customer")?;
        let body = req.get_ref();
        let id = parse_uuid("block_id", &body.block_id)?;
        if !body.confirm {
            return Err(FieldViolation::new(
                "confirm",
                "must be true: messages sent while blocked stay hidden, new ones will be shown",
            )
            .into());
        }
        let reason = Reason::parse(&body.reason)?;
        let txn = self.db.begin().await?;
        if !Blocks::unblock(&txn, who.org_id, id, &who.id).await? {
            txn.rollback().await?;
            return match Blocks::get(&self.db, who.org_id, id).await? {
                None => Err(Error::BlockNotFound),
                Some(_) => Err(Error::AlreadyLifted),
            };
        }
        Blocks::audit(&txn, id, who.org_id, "unblock", &who.id, reason.as_str()).await?;
        let view = self
            .commit_block(txn, who.org_id, id, |block| pb::CustomerUnblocked {
                block: Some(block),
            })
            .await?;
        Ok(view)
    }

    async fn block_ip(
        &self,
        req: Request<pb::BlockIpRequest>,
    ) -> std::result::Result<pb::Block, Error> {
        let who = principal(&req)?;
        who.require(
            &[Role::Agent, Role::Supervisor, Role::Admin],
            "block an IP range",
        )?;
        let body = req.get_ref();
        let now = Utc::now();
        let parsed = IpBlockRequest::parse(
            &body.ip_cidr,
            body.expires_at.as_ref().and_then(from_proto),
            &body.reason,
            now,
        )
        .map_err(Error::Invalid)?;
        let txn = self.db.begin().await?;
        let id = Blocks::insert(
            &txn,
            &NewBlock {
                org_id: who.org_id,
                conversation_id: None,
                channel: common::Channel::Unspecified,
                customer_name: "",
                ip_cidr: Some(parsed.range.to_cidr()),
                reason: parsed.reason.as_str(),
                blocked_by: &who.id,
                expires_at: Some(parsed.expires_at),
                identities: &[],
                client_request_id: None,
            },
        )
        .await?
        .ok_or(Error::RangeAlreadyBlocked)?;
        let view = self
            .commit_block(txn, who.org_id, id, |block| pb::IpBlocked {
                block: Some(block),
            })
            .await?;
        Ok(view)
    }

    async fn check(
        &self,
        req: Request<pb::CheckIdentitiesRequest>,
    ) -> std::result::Result<pb::CheckIdentitiesResponse, Error> {
        let who = principal(&req)?;
        who.require(
            &[Role::Service, Role::Agent, Role::Supervisor, Role::Admin],
            "check identities",
        )?;
        let body = req.get_ref();
        let identities = livedesk_platform::identity::normalize_all(&body.identities)?;
        let ip = match body.ip_address.trim() {
            "" => None,
            raw => Some(
                raw.parse::<std::net::IpAddr>()
                    .map_err(|_| FieldViolation::new("ip_address", "not an IP address"))?,
            ),
        };
        // Erased customers' hashed identities are matched too (PRV-2).
        let block = self.checks.check(who.org_id, identities, ip).await?;
        Ok(pb::CheckIdentitiesResponse {
            blocked: block.is_some(),
            block_id: block.map(|b| b.to_string()).unwrap_or_default(),
        })
    }
}

#[tonic::async_trait]
impl BlockingService for BlockingGrpc {
    async fn block_customer(&self, req: Request<pb::BlockCustomerRequest>) -> Result<pb::Block> {
        Ok(Response::new(
            BlockingGrpc::block_customer(self, req).await?,
        ))
    }

    async fn unblock_customer(
        &self,
        req: Request<pb::UnblockCustomerRequest>,
    ) -> Result<pb::Block> {
        Ok(Response::new(self.unblock(req).await?))
    }

    async fn block_ip(&self, req: Request<pb::BlockIpRequest>) -> Result<pb::Block> {
        Ok(Response::new(BlockingGrpc::block_ip(self, req).await?))
    }

    async fn check_identities(
        &self,
        req: Request<pb::CheckIdentitiesRequest>,
    ) -> Result<pb::CheckIdentitiesResponse> {
        Ok(Response::new(self.check(req).await?))
    }

    async fn get_block(&self, req: Request<pb::GetBlockRequest>) -> Result<pb::Block> {
        let run = async {
            let who = principal(&req)?;
            who.require_staff("read blocks")?;
            let id = parse_uuid("id", &req.get_ref().id)?;
            let row = Blocks::get(&self.db, who.org_id, id)
                .await?
                .ok_or(Error::BlockNotFound)?;
            Ok::<_, Error>(views::block(&row, Utc::now(), who.role != Role::Service))
        };
        Ok(Response::new(run.await?))
    }

    async fn list_blocks(
        &self,
        req: Request<pb::ListBlocksRequest>,
    ) -> Result<pb::ListBlocksResponse> {
        let run = async {
            let who = principal(&req)?;
            who.require_staff("list blocks")?;
            let page = Page::parse(req.get_ref().page.as_ref())?;
            let rows = Blocks::list(
                &self.db,
                who.org_id,
                req.get_ref().active_only,
                page.after,
                page.size,
            )
            .await?;
            let now = Utc::now();
            let last = rows.last().map(|r| (r.blocked_at, r.id));
            Ok::<_, Error>(pb::ListBlocksResponse {
                page: Some(page.response(rows.len(), last)),
                blocks: rows
                    .iter()
                    .map(|r| views::block(r, now, who.role != Role::Service))
                    .collect(),
            })
        };
        Ok(Response::new(run.await?))
    }

    async fn list_block_audit(
        &self,
        req: Request<pb::ListBlockAuditRequest>,
    ) -> Result<pb::ListBlockAuditResponse> {
        let run = async {
            let who = principal(&req)?;
            who.require_supervisor("read the block audit")?;
            let id = parse_uuid("block_id", &req.get_ref().block_id)?;
            Blocks::get(&self.db, who.org_id, id)
                .await?
                .ok_or(Error::BlockNotFound)?;
            let entries = Blocks::audit_of(&self.db, who.org_id, id)
                .await?
                .into_iter()
                .map(|(action, actor, reason, at)| pb::BlockAuditEntry {
                    block_id: id.to_string(),
                    action,
                    actor,
                    reason,
                    at: Some(to_proto(at)),
                })
                .collect();
            Ok::<_, Error>(pb::ListBlockAuditResponse { entries })
        };
        Ok(Response::new(run.await?))
    }
}
