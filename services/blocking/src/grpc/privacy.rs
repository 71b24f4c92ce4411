//! `DataSubjectService` of the blocking service (PRV-1): the blocks naming the customer's identities or conversations,
//! as one JSON object, for the export conversations assembles.
use livedesk_auth::{Role, principal};
use livedesk_platform::errors::FieldViolation;
use livedesk_proto::privacy::v1 as pb;
use livedesk_proto::privacy::v1::data_subject_service_server::DataSubjectService;
use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::error::Error;
use crate::store::SubjectData;

/// This service's name in exports and `CustomerErased`.
pub const SERVICE: &str = "blocking";

/// Serves this service's share of a customer's data.
#[derive(Clone)]
pub struct DataSubjectGrpc {
    pub db: DatabaseConnection,
}

impl DataSubjectGrpc {
    async fn collect(
        &self,
        req: Request<pb::CollectSubjectDataRequest>,
    ) -> Result<pb::CollectSubjectDataResponse, Error> {
        let who = principal(&req)?;
        // Only conversations asks, on behalf of an admin or supervisor it
        // has already authorized; people use ExportCustomerData.
        who.require(&[Role::Service], "collect subject data")?;
        let body = req.get_ref();
        let identities = livedesk_platform::identity::normalize_all(&body.identities)
            .map_err(|v| Error::Invalid(vec![v]))?;
        let ids = body
            .conversation_ids
            .iter()
            .map(|s| Uuid::parse_str(s.trim()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| {
                Error::Invalid(vec![FieldViolation::new("conversation_ids", "not a UUID")])
            })?;
        if identities.is_empty() && ids.is_empty() {
            return Err(Error::Invalid(vec![FieldViolation::new(
                "identities",
                "at least one identity or conversation id",
            )]));
        }
        Ok(pb::CollectSubjectDataResponse {
            service: SERVICE.into(),
            json: SubjectData::export(&self.db, who.org_id, &ids, &identities).await?,
        })
    }
}

#[tonic::async_trait]
impl DataSubjectService for DataSubjectGrpc {
    async fn collect_subject_data(
        &self,
        req: Request<pb::CollectSubjectDataRequest>,
    ) -> Result<Response<pb::CollectSubjectDataResponse>, Status> {
        Ok(Response::new(self.collect(req).await?))
    }
}
