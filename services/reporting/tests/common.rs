//! Shared helpers of the reporting integration tests: a running service,
//! events published as the other services would, CSV downloads.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use futures::StreamExt;
use livedesk_auth::Role;
use livedesk_events::Subjects;
use livedesk_proto::common::v1::TimeRange;
use livedesk_proto::conversations::v1::{ConversationEnded, ConversationStatus, Qualification};
use livedesk_proto::reporting::v1::reporting_service_client::ReportingServiceClient;
use livedesk_proto::reporting::v1::{
    ExportCsvRequest, ExportKind, GetStatisticsRequest, GroupBy, StatisticsRow,
};
use livedesk_testkit::{RunningService, TestEnv, authed, spawn};
use prost_types::Timestamp;
use tonic::transport::Channel;
use uuid::Uuid;

/// 2026-01-01T10:00:00Z: the origin of every time the tests set.
pub const T0: i64 = 1_767_261_600;

pub fn ts(offset: i64) -> Option<Timestamp> {
    Some(Timestamp {
        seconds: T0 + offset,
        nanos: 0,
    })
}

/// A range around every test time.
pub fn test_range() -> Option<TimeRange> {
    Some(TimeRange {
        from: ts(-3600),
        to: ts(86_400),
    })
}

/// One reporting service with its own databases and subject prefix.
pub struct Harness {
    pub env: TestEnv,
    pub svc: RunningService,
    pub js: async_nats::jetstream::Context,
    pub subjects: Subjects,
}

impl Harness {
    pub async fn start() -> Self {
        let env = TestEnv::new().await.unwrap();
        let svc = spawn::<livedesk_reporting::App>(&env.service_env("reporting", &[]))
            .await
            .unwrap();
        let js = async_nats::jetstream::new(env.nats().await.unwrap());
        let subjects = Subjects::new(env.prefix.clone());
        Self {
            env,
            svc,
            js,
            subjects,
        }
    }

    pub async fn client(&self) -> ReportingServiceClient<Channel> {
        ReportingServiceClient::new(self.svc.channel().await.unwrap())
    }

    pub fn token(&self, org: Uuid, sub: &str, role: Role) -> String {
        self.env.token(org, sub, role)
    }

    /// Publishes `event` as `producer` would (a fresh event id each time).
    pub async fn publish<E: livedesk_proto::EventType>(
        &self,
        producer: &str,
        org: Uuid,
        aggregate: &str,
        event: &E,
    ) {
        self.env
            .publish(producer, org, aggregate, event)
            .await
            .unwrap();
    }

    pub async fn stats(
        &self,
        token: &str,
        group: GroupBy,
    ) -> Result<Vec<StatisticsRow>, tonic::Status> {
        let req = GetStatisticsRequest {
            range: test_range(),
            group_by: group as i32,
        };
        Ok(self
            .client()
            .await
            .get_statistics(authed(token, req))
            .await?
            .into_inner()
            .rows)
    }

    /// Downloads a whole export of the test range.
    pub async fn export(
        &self,
        token: &str,
        kind: ExportKind,
        semicolon: bool,
        bom: bool,
    ) -> Result<Vec<u8>, tonic::Status> {
        self.export_in(token, kind, test_range(), semicolon, bom)
            .await
    }

    /// Downloads a whole export of `range` (none: everything).
    pub async fn export_in(
        &self,
        token: &str,
        kind: ExportKind,
        range: Option<TimeRange>,
        semicolon: bool,
        bom: bool,
    ) -> Result<Vec<u8>, tonic::Status> {
        let req = ExportCsvRequest {
            kind: kind as i32,
            range,
            semicolon,
            bom,
        };
        let mut stream = self
            .client()
            .await
            .export_csv(authed(token, req))
            .await?
            .into_inner();
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            bytes.extend_from_slice(&chunk?.data);
        }
        Ok(bytes)
    }
}

/// Parses a downloaded CSV into its header and rows.
pub fn parse_csv(bytes: &[u8], semicolon: bool) -> (Vec<String>, Vec<Vec<String>>) {
    let body = bytes
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(if semicolon { b';' } else { b',' })
        .from_reader(body);
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

/// The value of column `name` in `row`.
pub fn col<'a>(header: &[String], row: &'a [String], name: &str) -> &'a str {
    let i = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    &row[i]
}

/// Times of a conversation, in seconds after [`T0`].
pub struct Times {
    pub queued: i64,
    pub assigned: Option<i64>,
    pub first_response: Option<i64>,
    pub ended: i64,
}

/// A `ConversationEnded` as the conversations service publishes it.
pub fn ended(
    id: Uuid,
    tags: &[&str],
    agents: &[&str],
    t: Times,
    status: ConversationStatus,
    abandoned: bool,
) -> ConversationEnded {
    ConversationEnded {
        conversation_id: id.to_string(),
        queue_id: "sales".into(),
        channel: 1,
        status: status as i32,
        ended_by: 1,
        qualification: Some(Qualification {
            tags: tags.iter().map(|s| s.to_string()).collect(),
            contact_reason: "order".into(),
            note: String::new(),
        }),
        agent_ids: agents.iter().map(|s| s.to_string()).collect(),
        created_at: ts(t.queued),
        queued_at: ts(t.queued),
        assigned_at: t.assigned.and_then(ts),
        first_response_at: t.first_response.and_then(ts),
        ended_at: ts(t.ended),
        message_count: 7,
        abandoned,
        customer_name: "+447966197542".into(),
        ..Default::default()
    }
}
