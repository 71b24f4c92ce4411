//! Data-subject rights (PRV-1, PRV-2): `PrivacyService` (export, erase,
//! erasure status) and this service's own `DataSubjectService` share.
//!
//! Conversations owns customer identities, so it finds the customer's
//! conversations and hands their ids to the other services: in the
//! `CollectSubjectData` peer calls of an export, and in the
//! `CustomerErasureRequested` event of an erasure.
use livedesk_auth::{Role, principal};
use livedesk_events::Outbox;
use livedesk_platform::Runtime;
use livedesk_platform::errors::{FieldViolation, parse_uuid};
use livedesk_platform::identity::normalize_all;
use livedesk_platform::time::to_proto;
use livedesk_proto::common::v1::{CustomerIdentity, IdentityKind};
use livedesk_proto::privacy::v1 as pb;
use livedesk_proto::privacy::v1::data_subject_service_client::DataSubjectServiceClient;
use livedesk_proto::privacy::v1::data_subject_service_server::DataSubjectService;
use livedesk_proto::privacy::v1::privacy_service_server::PrivacyService;
use sea_orm::{DatabaseConnection, TransactionTrait};
use tonic::transport::Channel;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::error::{Entity, Error};
use crate::store::{ErasureRow, Privacy, identity_digest};

/// This service's name in exports and `completed_services`.
pub const SERVICE: &str = "conversations";

/// The privacy gRPC services of conversations.
#[derive(Clone)]
pub struct PrivacyGrpc {
    pub db: DatabaseConnection,
    pub outbox: Outbox,
    pub rt: Runtime,
    /// The other five services' `DataSubjectService`, by service name.
    pub peers: Vec<(&'static str, DataSubjectServiceClient<Channel>)>,
}

fn identities_of(raw: &[CustomerIdentity]) -> Result<Vec<(IdentityKind, String)>, Error> {
    let ids = normalize_all(raw)?;
    if ids.is_empty() {
        return Err(FieldViolation::new("identities", "at least one identity").into());
    }
    Ok(ids)
}

fn to_proto_identities(ids: &[(IdentityKind, String)]) -> Vec<CustomerIdentity> {
    ids.iter()
        .map(|(kind, value)| CustomerIdentity {
            kind: *kind as i32,
            value: value.clone(),
        })
        .collect()
}

fn view(row: ErasureRow) -> pb::Erasure {
    pb::Erasure {
        id: row.id.to_string(),
        completed_services: row.completed_services,
        requested_at: Some(to_proto(row.requested_at)),
        requested_by: row.requested_by,
    }
}

impl PrivacyGrpc {
    /// PRV-1. Admins and supervisors: they handle data-subject requests
    /// (supervisors already read every conversation and export reports);
    /// agents and visitors are refused, and so are service tokens (no
    /// service needs another's complete view of a customer).
    async fn export(&self, req: Request<pb::ExportCustomerDataRequest>) -> Result<String, Error> {
        let who = principal(&req)?;
        who.require(&[Role::Admin, Role::Supervisor], "export customer data")?;
        let org = who.org_id;
        let typed = identities_of(&req.get_ref().identities)?;
        let ids = Privacy::conversations_of(&self.db, org, &typed).await?;
        let identities = Privacy::all_identities(&self.db, org, &ids, &typed).await?;
        let own = Privacy::export(&self.db, org, &ids, &identities).await?;
        let mut ask = pb::CollectSubjectDataRequest {
            identities: to_proto_identities(&identities),
            conversation_ids: ids.iter().map(Uuid::to_string).collect(),
            form_submission_ids: vec![],
            request_ids: Privacy::requests_of(&self.db, org, &ids, &identities)
                .await?
                .iter()
                .map(Uuid::to_string)
                .collect(),
        };
        let mut services = serde_json::Map::new();
        services.insert(SERVICE.into(), parse_share(SERVICE, &own)?);
        // Scheduling first: its submissions' ids let reporting find its
        // masked copies.
        let scheduling = parse_share(
            "scheduling",
            &self.collect_from(org, "scheduling", &ask).await?,
        )?;
        ask.form_submission_ids = submission_ids(&scheduling);
        services.insert("scheduling".into(), scheduling);
        // Every peer must answer: a missing share would present a partial
        // export as complete, so the first failure fails the export.
        let others = self.peers.iter().filter(|(name, _)| *name != "scheduling");
        let shares = futures::future::try_join_all(others.map(|(name, _)| {
            let ask = ask.clone();
            async move { Ok::<_, Error>((*name, self.collect_from(org, name, &ask).await?)) }
        }))
        .await?;
        for (name, json) in shares {
            services.insert(name.into(), parse_share(name, &json)?);
        }
        let doc = serde_json::json!({
            "exported_at": chrono::Utc::now().to_rfc3339(),
            "exported_by": who.id,
            "identities": identities
                .iter()
                .map(|(k, v)| serde_json::json!({"kind": k.as_str_name(), "value": v}))
                .collect::<Vec<_>>(),
            "conversation_ids": ids,
            "services": services,
        });
        tracing::info!(conversations = ids.len(), "customer data exported");
        Ok(doc.to_string())
    }

    /// One peer's share (its `DataSubjectService`), with the usual retries
    /// over its replicas; a peer that stays down fails the caller.
    async fn collect_from(
        &self,
        org: Uuid,
        name: &str,
        ask: &pb::CollectSubjectDataRequest,
    ) -> Result<String, Error> {
        let (peer, client) = self
            .peers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, c)| (*n, c.clone()))
            .ok_or(Error::NotFound(Entity::Peer))?;
        let got = livedesk_platform::peer::idempotent(|| async {
            let r = self.rt.peer_request(org, ask.clone())?;
            client.clone().collect_subject_data(r).await
        })
        .await
        .map_err(livedesk_platform::errors::peer(peer))?
        .into_inner();
        Ok(got.json)
    }

    /// PRV-2. Admins only, with `confirm`: the erasure cannot be undone.
    async fn erase(&self, req: Request<pb::EraseCustomerRequest>) -> Result<pb::Erasure, Error> {
        let who = principal(&req)?;
        who.require(&[Role::Admin], "erase a customer")?;
        if !req.get_ref().confirm {
            return Err(Error::ErasureNotConfirmed);
        }
        let org = who.org_id;
        let typed = identities_of(&req.get_ref().identities)?;
        let id = Uuid::now_v7();
        // Every service erases by all the customer's identities, not only
        // the ones the admin typed.
        let ids = Privacy::conversations_of(&self.db, org, &typed).await?;
        let identities = Privacy::all_identities(&self.db, org, &ids, &typed).await?;
        // Scheduling names the customer's form submissions, so reporting
        // can erase its masked copies by id (fails closed when it is down).
        // Asked before the transaction: no lock is held across a peer call.
        let ask = pb::CollectSubjectDataRequest {
            identities: to_proto_identities(&identities),
            conversation_ids: ids.iter().map(Uuid::to_string).collect(),
            form_submission_ids: vec![],
            request_ids: vec![],
        };
        let forms = submission_ids(&parse_share(
            "scheduling",
            &self.collect_from(org, "scheduling", &ask).await?,
        )?);
        let txn = self.db.begin().await?;
        // Conversations of those identities that started since are
        // included; the live check runs on the final set.
        let ids = Privacy::conversations_of(&txn, org, &typed).await?;
        if Privacy::any_live(&txn, org, &ids).await? {
            return Err(Error::LiveConversation);
        }
        let digests: Vec<String> = identities
            .iter()
            .map(|(k, v)| identity_digest(org, *k, v))
            .collect();
        Privacy::record(&txn, id, org, "request", &who.id, &digests, &ids).await?;
        let event = pb::CustomerErasureRequested {
            erasure_id: id.to_string(),
            identities: to_proto_identities(&identities),
            conversation_ids: ids.iter().map(Uuid::to_string).collect(),
            form_submission_ids: forms,
            request_ids: Privacy::requests_of(&txn, org, &ids, &identities)
                .await?
                .iter()
                .map(Uuid::to_string)
                .collect(),
        };
        let staged = self.outbox.stage(&txn, org, id, &event).await?;
        let row = Privacy::get(&txn, org, id)
            .await?
            .ok_or(Error::NotFound(Entity::Erasure))?;
        txn.commit().await?;
        self.outbox.publish(vec![staged]).await;
        tracing::info!(erasure_id = %id, conversations = ids.len(), "customer erasure requested");
        Ok(view(row))
    }

    async fn get_erasure_view(
        &self,
        req: Request<pb::GetErasureRequest>,
    ) -> Result<pb::Erasure, Error> {
        let who = principal(&req)?;
        who.require(&[Role::Admin, Role::Supervisor], "read an erasure")?;
        let id = parse_uuid("id", &req.get_ref().id)?;
        let row = Privacy::get(&self.db, who.org_id, id)
            .await?
            .ok_or(Error::NotFound(Entity::Erasure))?;
        Ok(view(row))
    }

    /// This service's share, for the export (service tokens only).
    async fn collect(
        &self,
        req: Request<pb::CollectSubjectDataRequest>,
    ) -> Result<pb::CollectSubjectDataResponse, Error> {
        let who = principal(&req)?;
        who.require(&[Role::Service], "collect subject data")?;
        let identities = identities_of(&req.get_ref().identities)?;
        let ids = Privacy::conversations_of(&self.db, who.org_id, &identities).await?;
        Ok(pb::CollectSubjectDataResponse {
            service: SERVICE.into(),
            json: Privacy::export(&self.db, who.org_id, &ids, &identities).await?,
        })
    }
}

/// Ids of the submissions in scheduling's share.
fn submission_ids(scheduling: &serde_json::Value) -> Vec<String> {
    scheduling["form_submissions"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter_map(|s| s["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A share must be a JSON document: a peer answering anything else is a
/// broken peer, not an empty share.
fn parse_share(service: &str, json: &str) -> Result<serde_json::Value, Error> {
    serde_json::from_str(json).map_err(|e| Error::InvalidShare {
        service: service.to_owned(),
        reason: e.to_string(),
    })
}

#[tonic::async_trait]
impl PrivacyService for PrivacyGrpc {
    async fn export_customer_data(
        &self,
        req: Request<pb::ExportCustomerDataRequest>,
    ) -> Result<Response<pb::ExportCustomerDataResponse>, Status> {
        Ok(Response::new(pb::ExportCustomerDataResponse {
            json: self.export(req).await?,
        }))
    }

    async fn erase_customer(
        &self,
        req: Request<pb::EraseCustomerRequest>,
    ) -> Result<Response<pb::Erasure>, Status> {
        Ok(Response::new(self.erase(req).await?))
    }

    async fn get_erasure(
        &self,
        req: Request<pb::GetErasureRequest>,
    ) -> Result<Response<pb::Erasure>, Status> {
        Ok(Response::new(self.get_erasure_view(req).await?))
    }
}

#[tonic::async_trait]
impl DataSubjectService for PrivacyGrpc {
    async fn collect_subject_data(
        &self,
        req: Request<pb::CollectSubjectDataRequest>,
    ) -> Result<Response<pb::CollectSubjectDataResponse>, Status> {
        Ok(Response::new(self.collect(req).await?))
    }
}
