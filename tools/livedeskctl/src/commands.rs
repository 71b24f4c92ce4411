//! Operator commands (OPS-4), as functions the CLI and the tests share.
use std::io::Write;

use livedesk_auth::Role;
use livedesk_proto::common::v1::{Channel, TimeRange};
use livedesk_proto::reporting::v1::{ExportCsvRequest, ExportKind};
use livedesk_proto::routing::v1 as rtg;
use livedesk_proto::scheduling::v1 as sch;
use uuid::Uuid;

use crate::tokens::authed;
use crate::{Clients, Tokens};

/// Creates a queue; returns it.
pub async fn create_queue(
    clients: &Clients,
    tokens: &Tokens,
    name: &str,
    offer_timeout_seconds: u32,
) -> anyhow::Result<rtg::Queue> {
    let token = tokens.mint("livedeskctl", Role::Admin, None)?;
    let queue = rtg::Queue {
        name: name.to_owned(),
        offer_timeout_seconds,
        ..Default::default()
    };
    Ok(clients
        .routing
        .clone()
        .create_queue(authed(
            &token,
            rtg::CreateQueueRequest {
                queue: Some(queue),
                client_request_id: Uuid::now_v7().to_string(),
            },
        ))
        .await?
        .into_inner())
}

/// Creates or updates an agent with a chat capacity and queue memberships.
pub async fn upsert_agent(
    clients: &Clients,
    tokens: &Tokens,
    id: &str,
    display_name: &str,
    chat_capacity: u32,
    queue_ids: Vec<String>,
) -> anyhow::Result<rtg::Agent> {
    let token = tokens.mint("livedeskctl", Role::Admin, None)?;
    let req = rtg::UpsertAgentRequest {
        id: id.to_owned(),
        display_name: display_name.to_owned(),
        queue_ids,
        capacities: vec![rtg::ChannelCapacity {
            channel: Channel::WebChat as i32,
            capacity: chat_capacity,
        }],
        ..Default::default()
    };
    Ok(clients
        .routing
        .clone()
        .upsert_agent(authed(&token, req))
        .await?
        .into_inner())
}

/// Parses `mon-fri=09:00-12:00,13:30-18:00` style weekly hours.
pub fn parse_hours(spec: &str) -> anyhow::Result<Vec<sch::Interval>> {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let day = |d: &str| {
        DAYS.iter()
            .position(|x| *x == d.trim().to_ascii_lowercase())
            .map(|i| i as u32 + 1)
            .ok_or_else(|| anyhow::anyhow!("unknown day {d:?} (mon … sun)"))
    };
    let minute = |t: &str| -> anyhow::Result<u32> {
        let (h, m) = t
            .trim()
            .split_once(':')
            .ok_or_else(|| anyhow::anyhow!("time {t:?} is not HH:MM"))?;
        Ok(h.parse::<u32>()? * 60 + m.parse::<u32>()?)
    };
    let mut out = Vec::new();
    for part in spec.split(';').filter(|p| !p.trim().is_empty()) {
        let (days, ranges) = part
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("{part:?}: expected DAYS=HH:MM-HH:MM"))?;
        let (first, last) = days.split_once('-').unwrap_or((days, days));
        let (first, last) = (day(first)?, day(last)?);
        for range in ranges.split(',') {
            let (start, end) = range
                .split_once('-')
                .ok_or_else(|| anyhow::anyhow!("{range:?}: expected HH:MM-HH:MM"))?;
            for weekday in first..=last {
                out.push(sch::Interval {
                    weekday,
                    start_minute: minute(start)?,
                    end_minute: minute(end)?,
                });
            }
        }
    }
    Ok(out)
}

/// Creates a schedule and, when `queue_id` is given, assigns it.
pub async fn create_schedule(
    clients: &Clients,
    tokens: &Tokens,
    name: &str,
    time_zone: &str,
    hours: &str,
    queue_id: Option<&str>,
) -> anyhow::Result<sch::Schedule> {
    let token = tokens.mint("livedeskctl", Role::Admin, None)?;
    let schedule = sch::Schedule {
        name: name.to_owned(),
        time_zone: time_zone.to_owned(),
        intervals: parse_hours(hours)?,
        ..Default::default()
    };
    let created = clients
        .scheduling
        .clone()
        .create_schedule(authed(
            &token,
            sch::CreateScheduleRequest {
                schedule: Some(schedule),
                client_request_id: Uuid::now_v7().to_string(),
            },
        ))
        .await?
        .into_inner();
    if let Some(queue_id) = queue_id {
        clients
            .scheduling
            .clone()
            .assign_schedule(authed(
                &token,
                sch::AssignScheduleRequest {
                    queue_id: queue_id.to_owned(),
                    schedule_id: created.id.clone(),
                },
            ))
            .await?;
    }
    Ok(created)
}

/// One line of `livedeskctl queues`.
#[derive(Debug, Clone)]
pub struct QueueLine {
    pub queue: rtg::Queue,
    pub status: rtg::QueueStatus,
}

/// Every queue with its staffing and waiting counts.
pub async fn inspect_queues(clients: &Clients, tokens: &Tokens) -> anyhow::Result<Vec<QueueLine>> {
    let token = tokens.mint("livedeskctl", Role::Admin, None)?;
    let queues = clients
        .routing
        .clone()
        .list_queues(authed(&token, rtg::ListQueuesRequest::default()))
        .await?
        .into_inner()
        .queues;
    let mut lines = Vec::with_capacity(queues.len());
    for queue in queues {
        let status = clients
            .routing
            .clone()
            .get_queue_status(authed(
                &token,
                rtg::GetQueueStatusRequest {
                    queue_id: queue.id.clone(),
                },
            ))
            .await?
            .into_inner();
        lines.push(QueueLine { queue, status });
    }
    Ok(lines)
}

/// Parses an export kind name.
pub fn export_kind(name: &str) -> anyhow::Result<ExportKind> {
    Ok(match name {
        "conversations" => ExportKind::Conversations,
        "blocked" => ExportKind::BlockedConversations,
        "agents" => ExportKind::AgentActivity,
        "forms" => ExportKind::FormSubmissions,
        other => {
            anyhow::bail!("unknown export kind {other:?}: conversations, blocked, agents or forms")
        }
    })
}

/// Streams a CSV export into `out` chunk by chunk (constant memory,
/// RPT-4); returns the number of bytes written.
pub async fn export_csv(
    clients: &Clients,
    tokens: &Tokens,
    kind: ExportKind,
    range: Option<TimeRange>,
    semicolon: bool,
    bom: bool,
    out: &mut impl Write,
) -> anyhow::Result<usize> {
    let token = tokens.mint("livedeskctl", Role::Supervisor, None)?;
    let mut stream = clients
        .reporting
        .clone()
        .export_csv(authed(
            &token,
            ExportCsvRequest {
                kind: kind as i32,
                range,
                semicolon,
                bom,
            },
        ))
        .await?
        .into_inner();
    let mut bytes = 0usize;
    while let Some(chunk) = stream.message().await? {
        bytes += chunk.data.len();
        out.write_all(&chunk.data)?;
    }
    out.flush()?;
    Ok(bytes)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::parse_hours;

    // No spec tag: this parses the operator's input inside the tool; OPS-4
    // is proven against the services by tests/e2e/tests/operator_cli.rs.
    #[test]
    fn weekly_hours_parse_with_lunch_breaks_and_day_ranges() {
        let hours = parse_hours("mon-fri=09:00-12:00,13:30-18:00;sat=10:00-14:00").unwrap();
        assert_eq!(hours.len(), 11);
        assert_eq!(
            (hours[0].weekday, hours[0].start_minute, hours[0].end_minute),
            (1, 540, 720)
        );
        assert_eq!((hours[10].weekday, hours[10].start_minute), (6, 600));
        assert!(parse_hours("someday=09:00-10:00").is_err());
        assert!(parse_hours("mon=9-10").is_err());
    }
}
