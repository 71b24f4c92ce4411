//! A service's share of a customer's data (PRV-1, PRV-2), in one place:
//! what an export or an erasure names, parsed once and failing closed, and
//! the `DataSubjectService` every service serves around its own queries.
//! The erasure side (the `CustomerErasureRequested` handler) is
//! `livedesk_events::ErasureEvents`, over the same [`SubjectShare`].
use std::future::Future;

use livedesk_auth::{Role, principal};
use livedesk_proto::common::v1::{CustomerIdentity, IdentityKind};
use livedesk_proto::privacy::v1 as pb;
use livedesk_proto::privacy::v1::data_subject_service_server::DataSubjectService;
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, Value};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::errors::{self, FieldViolation};

/// Everything an export or an erasure names; each service uses the parts
/// its data is keyed by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectScope {
    pub conversations: Vec<Uuid>,
    pub identities: Vec<(IdentityKind, String)>,
    pub form_submissions: Vec<Uuid>,
    pub requests: Vec<Uuid>,
}

fn uuids(field: &str, raw: &[String]) -> Result<Vec<Uuid>, FieldViolation> {
    raw.iter()
        .map(|s| Uuid::parse_str(s.trim()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| FieldViolation::new(field, "not a UUID"))
}

impl SubjectScope {
    /// Parses the ids and normalizes the identities; anything malformed is
    /// refused, never guessed at.
    pub fn parse(
        identities: &[CustomerIdentity],
        conversations: &[String],
        form_submissions: &[String],
        requests: &[String],
    ) -> Result<Self, FieldViolation> {
        Ok(Self {
            conversations: uuids("conversation_ids", conversations)?,
            identities: crate::identity::normalize_all(identities)?,
            form_submissions: uuids("form_submission_ids", form_submissions)?,
            requests: uuids("request_ids", requests)?,
        })
    }

    /// The scope of a collect request.
    pub fn of_collect(r: &pb::CollectSubjectDataRequest) -> Result<Self, FieldViolation> {
        Self::parse(
            &r.identities,
            &r.conversation_ids,
            &r.form_submission_ids,
            &r.request_ids,
        )
    }

    /// The scope of an erasure event.
    pub fn of_erasure(e: &pb::CustomerErasureRequested) -> Result<Self, FieldViolation> {
        Self::parse(
            &e.identities,
            &e.conversation_ids,
            &e.form_submission_ids,
            &e.request_ids,
        )
    }

    /// Names nothing at all.
    pub fn is_empty(&self) -> bool {
        self.conversations.is_empty()
            && self.identities.is_empty()
            && self.form_submissions.is_empty()
            && self.requests.is_empty()
    }
}

/// One service's queries over its own share of a customer's data.
pub trait SubjectShare: Send + Sync + 'static {
    /// The service's name in exports and `CustomerErased`.
    const SERVICE: &'static str;

    /// Everything the service holds in `scope`, as one JSON object.
    fn export(
        &self,
        db: &DatabaseConnection,
        org: Uuid,
        scope: &SubjectScope,
    ) -> impl Future<Output = Result<String, DbErr>> + Send;

    /// Deletes or irreversibly redacts it, inside the consumer's
    /// transaction; a second call finds nothing more to change.
    fn erase(
        &self,
        txn: &DatabaseTransaction,
        org: Uuid,
        scope: &SubjectScope,
    ) -> impl Future<Output = Result<(), DbErr>> + Send;
}

/// Runs an export statement whose one row holds the JSON text of a share
/// in a column named `doc` (`SELECT json_build_object(…)::text AS doc`):
/// PostgreSQL builds the document, the service passes it on untouched.
pub async fn export_json<C: ConnectionTrait>(
    db: &C,
    sql: &str,
    values: impl IntoIterator<Item = Value>,
) -> Result<String, DbErr> {
    db.query_one_raw(crate::db::stmt(sql, values))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("export".into()))?
        .try_get::<String>("", "doc")
}

/// `DataSubjectService` over a service's [`SubjectShare`].
#[derive(Clone)]
pub struct DataSubjectGrpc<S> {
    pub db: DatabaseConnection,
    pub share: S,
}

#[tonic::async_trait]
impl<S: SubjectShare + Clone> DataSubjectService for DataSubjectGrpc<S> {
    async fn collect_subject_data(
        &self,
        req: Request<pb::CollectSubjectDataRequest>,
    ) -> Result<Response<pb::CollectSubjectDataResponse>, Status> {
        let who = principal(&req)?;
        // Only conversations asks, on behalf of an admin or supervisor it
        // has already authorized; people use ExportCustomerData.
        who.require(&[Role::Service], "collect subject data")?;
        let scope =
            SubjectScope::of_collect(req.get_ref()).map_err(|v| errors::invalid_argument(&[v]))?;
        if scope.is_empty() {
            return Err(errors::invalid_argument(&[FieldViolation::new(
                "identities",
                "at least one identity or id",
            )]));
        }
        let json = self
            .share
            .export(&self.db, who.org_id, &scope)
            .await
            .map_err(|e| errors::internal("database", &e))?;
        Ok(Response::new(pb::CollectSubjectDataResponse {
            service: S::SERVICE.into(),
            json,
        }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_refuses_what_it_cannot_parse_and_normalizes_identities() {
        let email = CustomerIdentity {
            kind: IdentityKind::Email as i32,
            value: "Ada@Example.com".into(),
        };
        let scope = SubjectScope::parse(&[email], &[], &[], &[]).unwrap();
        assert_eq!(
            scope.identities,
            [(IdentityKind::Email, "ada@example.com".to_owned())]
        );
        assert!(!scope.is_empty());
        let bad = SubjectScope::parse(&[], &["nope".into()], &[], &[]).unwrap_err();
        assert_eq!(bad.field, "conversation_ids");
        let bad = SubjectScope::parse(&[], &[], &[], &["x".into()]).unwrap_err();
        assert_eq!(bad.field, "request_ids");
        assert!(SubjectScope::default().is_empty());
    }
}
