//! `ReportingService` handlers: authenticate, decide the caller's scope
//! (RPT-5), parse, then query the read model.
use std::pin::Pin;

use livedesk_auth::{Principal, Role, principal};
use livedesk_platform::errors::FieldViolation;
use livedesk_platform::time::from_proto;
use livedesk_proto::common::v1::{Channel, TimeRange};
use livedesk_proto::reporting::v1 as pb;
use livedesk_proto::reporting::v1::reporting_service_server::ReportingService;
use sea_orm::DatabaseConnection;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use crate::domain::{CsvOptions, ExportKind, GroupBy, Range, Scope, UnknownLabel, parse_label};
use crate::error::Error;
use crate::store::statistics;

/// The gRPC service.
#[derive(Clone)]
pub struct ReportingGrpc {
    pub db: DatabaseConnection,
}

/// What a caller may see: staff and services only, agents their own
/// conversations (RPT-5). Visitors are refused.
fn scope(who: &Principal, action: &'static str) -> Result<Scope, Error> {
    who.require_staff(action)?;
    Ok(if who.sees_whole_org() {
        Scope::Org
    } else {
        Scope::Agent(who.id.clone())
    })
}

/// Parses an optional wire range, adding what is wrong to `violations`.
fn range(raw: Option<&TimeRange>, violations: &mut Vec<FieldViolation>) -> Option<Range> {
    let Some(r) = raw else {
        return Some(Range::default());
    };
    let mut convert = |field: &'static str, t: Option<&prost_types::Timestamp>| match t {
        None => Some(None),
        Some(t) => match from_proto(t) {
            Some(t) => Some(Some(t)),
            None => {
                violations.push(FieldViolation::new(field, "not a valid timestamp"));
                None
            }
        },
    };
    let (from, to) = (
        convert("range.from", r.from.as_ref()),
        convert("range.to", r.to.as_ref()),
    );
    Range::new(from?, to?).map_err(|v| violations.push(v)).ok()
}

/// Parses what both RPCs ask besides who calls: the choice each makes
/// (a grouping, an export kind) and the range, reporting every invalid
/// field at once.
fn parse<T>(
    choice: Result<T, FieldViolation>,
    raw_range: Option<&TimeRange>,
) -> Result<(T, Range), Error> {
    let mut violations = Vec::new();
    let choice = choice.map_err(|v| violations.push(v)).ok();
    let range = range(raw_range, &mut violations);
    match (choice, range) {
        (Some(choice), Some(range)) => Ok((choice, range)),
        _ => Err(Error::Invalid(violations)),
    }
}

impl ReportingGrpc {
    async fn statistics(
        &self,
        req: Request<pb::GetStatisticsRequest>,
    ) -> Result<pb::GetStatisticsResponse, Error> {
        let who = principal(&req)?;
        let scope = scope(&who, "read statistics")?;
        let body = req.get_ref();
        let (group, range) = parse(GroupBy::from_wire(body.group_by), body.range.as_ref())?;
        let rows = statistics(&self.db, who.org_id, range, group, &scope).await?;
        let rows = rows
            .into_iter()
            .map(|r| {
                Ok(pb::StatisticsRow {
                    key: if group == GroupBy::Channel {
                        channel_name(&r.key)?
                    } else {
                        r.key
                    },
                    count: u64::try_from(r.count).unwrap_or(0),
                    avg_handle_seconds: r.avg_handle.unwrap_or(0.0),
                    p90_handle_seconds: r.p90_handle.unwrap_or(0.0),
                    avg_wait_seconds: r.avg_wait.unwrap_or(0.0),
                    abandonment_rate: r.abandonment_rate.unwrap_or(0.0),
                    blocked_count: u64::try_from(r.blocked_count).unwrap_or(0),
                    avg_first_response_seconds: r.avg_first_response.unwrap_or(0.0),
                })
            })
            .collect::<Result<_, Error>>()?;
        Ok(pb::GetStatisticsResponse { rows })
    }

    fn export_request(
        req: &Request<pb::ExportCsvRequest>,
    ) -> Result<(Principal, Scope, ExportKind, Range, CsvOptions), Error> {
        let who = principal(req)?;
        let scope = scope(&who, "export reports")?;
        let body = req.get_ref();
        let (kind, range) = parse(ExportKind::from_wire(body.kind), body.range.as_ref())?;
        // Form submissions hold customers' own words and contact details
        // and belong to no agent: supervisors and admins only.
        if kind == ExportKind::FormSubmissions {
            who.require(
                &[Role::Supervisor, Role::Admin, Role::Service],
                "export form submissions",
            )?;
        }
        let options = CsvOptions {
            semicolon: body.semicolon,
            bom: body.bom,
        };
        Ok((who, scope, kind, range, options))
    }
}

/// The enum name of a channel stored as its label (`web_chat` is
/// `CHANNEL_WEB_CHAT`); a label the service does not know is an error.
fn channel_name(stored: &str) -> Result<String, UnknownLabel> {
    Ok(
        parse_label::<Channel>("conversation_facts.channel", stored)?
            .as_str_name()
            .to_owned(),
    )
}

/// The stream type tonic's generated trait expects (`tonic::codegen::BoxStream`).
type ChunkStream = Pin<Box<dyn Stream<Item = Result<pb::CsvChunk, Status>> + Send>>;

#[tonic::async_trait]
impl ReportingService for ReportingGrpc {
    type ExportCsvStream = ChunkStream;

    async fn get_statistics(
        &self,
        req: Request<pb::GetStatisticsRequest>,
    ) -> Result<Response<pb::GetStatisticsResponse>, Status> {
        Ok(Response::new(self.statistics(req).await?))
    }

    async fn export_csv(
        &self,
        req: Request<pb::ExportCsvRequest>,
    ) -> Result<Response<ChunkStream>, Status> {
        let (who, scope, kind, range, options) = Self::export_request(&req)?;
        let stream =
            super::export::start(self.db.clone(), who.org_id, scope, kind, range, options).await?;
        Ok(Response::new(Box::pin(stream)))
    }
}
