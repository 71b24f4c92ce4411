//! Every service serves Prometheus metrics at `GET /metrics` (TEN-7): RPC
//! count and latency by method and FINAL status code (streams included,
//! counted once when they end), outbox and consumer lag, and routing's
//! backlog gauges. Scraped over plain HTTP/1.1, as Prometheus does.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::net::SocketAddr;

use livedesk_auth::Role;
use livedesk_e2e::Suite;
use livedesk_proto::common::v1::Channel;
use livedesk_proto::conversations::v1 as cnv;
use livedesk_proto::notifications::v1::Notification;
use livedesk_proto::notifications::v1::notification::Kind;
use livedesk_proto::reporting::v1::{ExportCsvRequest, ExportKind};
use livedesk_proto::routing::v1 as rtg;
use livedesk_testkit::eventually;
use livedeskctl::tokens::authed;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const RPC: &str = "livedesk_rpc_server_duration_seconds_count";

/// One scrape: `GET /metrics` over a fresh connection, the body parsed
/// into (metric name, labels) → value.
async fn scrape(addr: SocketAddr) -> Series {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );
    Series::parse(body)
}

#[derive(Debug)]
struct Series(Vec<(String, BTreeMap<String, String>, f64)>);

impl Series {
    fn parse(text: &str) -> Self {
        let mut out = Vec::new();
        for line in text
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let (series, value) = line.rsplit_once(' ').expect("series and value");
            let (name, labels) = match series.split_once('{') {
                Some((n, rest)) => (n, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels = labels
                .split("\",")
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once("=\"").expect("label");
                    (k.to_owned(), v.trim_end_matches('"').to_owned())
                })
                .collect();
            out.push((name.to_owned(), labels, value.parse().expect("a number")));
        }
        Self(out)
    }

    /// The value of the one series `name` whose labels are exactly `labels`.
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let want: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.0
            .iter()
            .find(|(n, l, _)| n == name && *l == want)
            .map(|(_, _, v)| *v)
    }

    /// Every series `name` carrying `label` = `value`.
    fn with(&self, name: &str, label: &str, value: &str) -> Vec<&BTreeMap<String, String>> {
        self.0
            .iter()
            .filter(|(n, l, _)| n == name && l.get(label).map(String::as_str) == Some(value))
            .map(|(_, l, _)| l)
            .collect()
    }

    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _, _)| n == name)
    }
}

fn rpc_count(s: &Series, method: &str, code: i32) -> Option<f64> {
    s.get(
        RPC,
        &[
            ("rpc_method", method),
            ("rpc_grpc_status_code", &code.to_string()),
        ],
    )
}

// spec: TEN-7
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rpcs_are_counted_by_method_and_final_status_streams_included() {
    let suite = Suite::start().await.unwrap();
    let tokens = suite.tokens();
    let c = suite.clients.clone();
    let agent = tokens.mint("agent-ada", Role::Agent, Some("Ada")).unwrap();
    let supervisor = tokens.mint("sup", Role::Supervisor, None).unwrap();

    // A unary success and a unary failure (no token: UNAUTHENTICATED).
    let set_state = || rtg::SetAgentStateRequest {
        state: rtg::AgentState::Available as i32,
        ..Default::default()
    };
    c.routing
        .clone()
        .set_agent_state(authed(&agent, set_state()))
        .await
        .unwrap();
    let refused = c
        .routing
        .clone()
        .set_agent_state(tonic::Request::new(set_state()))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);

    // A server stream that runs to its end, and one refused up front.
    let export = |kind: ExportKind| ExportCsvRequest {
        kind: kind as i32,
        ..Default::default()
    };
    let mut csv = c
        .reporting
        .clone()
        .export_csv(authed(&supervisor, export(ExportKind::Conversations)))
        .await
        .unwrap()
        .into_inner();
    while csv.message().await.unwrap().is_some() {}
    let invalid = c
        .reporting
        .clone()
        .export_csv(authed(&supervisor, export(ExportKind::Unspecified)))
        .await;
    let invalid_code = match invalid {
        Ok(resp) => {
            let mut s = resp.into_inner();
            loop {
                match s.message().await {
                    Ok(Some(_)) => continue,
                    Ok(None) => panic!("an unspecified export kind was accepted"),
                    Err(status) => break status.code(),
                }
            }
        }
        Err(status) => status.code(),
    };
    assert_ne!(invalid_code, tonic::Code::Ok);

    let routing = scrape(suite.routing.metrics_addr).await;
    let set = "/livedesk.routing.v1.RoutingService/SetAgentState";
    assert_eq!(rpc_count(&routing, set, 0), Some(1.0), "{routing:?}");
    assert_eq!(rpc_count(&routing, set, 16), Some(1.0), "{routing:?}");
    let reporting = scrape(suite.reporting.metrics_addr).await;
    let exp = "/livedesk.reporting.v1.ReportingService/ExportCsv";
    assert_eq!(rpc_count(&reporting, exp, 0), Some(1.0), "{reporting:?}");
    assert_eq!(
        rpc_count(&reporting, exp, invalid_code as i32),
        Some(1.0),
        "{reporting:?}"
    );
    assert!(
        reporting.has("livedesk_rpc_server_duration_seconds_bucket")
            && reporting.has("livedesk_rpc_server_duration_seconds_sum"),
        "a histogram, not only a count"
    );

    // A Subscribe stream is counted when it ends, with its final status:
    // nothing while it is open, CANCELLED (1) once the client goes away.
    let sub = "/livedesk.notifications.v1.NotificationsService/Subscribe";
    let feed = livedesk_e2e::subscribe(&c, &agent, true).await.unwrap();
    let open = scrape(suite.notifications.metrics_addr).await;
    assert!(
        open.with(RPC, "rpc_method", sub).is_empty(),
        "an open stream is not counted yet: {open:?}"
    );
    drop(feed);
    let ended = eventually(10, "the cancelled Subscribe counted", || async {
        let s = scrape(suite.notifications.metrics_addr).await;
        rpc_count(&s, sub, 1).map(|_| s)
    })
    .await
    .unwrap();
    assert_eq!(rpc_count(&ended, sub, 1), Some(1.0), "{ended:?}");
    assert_eq!(
        ended.with(RPC, "rpc_method", sub).len(),
        1,
        "counted once, with its final code only: {ended:?}"
    );

    // The lag gauges of the event plumbing are exported too.
    eventually(20, "outbox and consumer lag gauges", || async {
        let s = scrape(suite.notifications.metrics_addr).await;
        let consumers = s.0.iter().any(|(n, l, _)| {
            n == "livedesk_consumer_pending_messages" && l.contains_key("consumer")
        });
        (s.has("livedesk_outbox_oldest_age_seconds") && consumers).then_some(())
    })
    .await
    .unwrap();

    // Anything but GET /metrics is refused.
    let mut stream = tokio::net::TcpStream::connect(suite.routing.metrics_addr)
        .await
        .unwrap();
    stream
        .write_all(b"GET /other HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    assert!(raw.starts_with("HTTP/1.1 404"), "{raw}");
    suite.stop().await.unwrap();
}

/// Subscribes `agent`'s feed, then makes the agent available.
async fn available(c: &livedeskctl::Clients, agent: &str) -> tonic::Streaming<Notification> {
    let feed = livedesk_e2e::subscribe(c, agent, true).await.unwrap();
    c.routing
        .clone()
        .set_agent_state(authed(
            agent,
            rtg::SetAgentStateRequest {
                state: rtg::AgentState::Available as i32,
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    feed
}

async fn next_offer(feed: &mut tonic::Streaming<Notification>) -> rtg::Offer {
    loop {
        if let Some(Kind::Offer(o)) = feed.message().await.unwrap().unwrap().kind {
            return o;
        }
    }
}

// spec: TEN-7
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn routing_gauges_follow_waiting_conversations_and_pending_offers() {
    let suite = Suite::start().await.unwrap();
    let tokens = suite.tokens();
    let c = suite.clients.clone();
    let agent_a = tokens.mint("agent-lin", Role::Agent, Some("Lin")).unwrap();
    let agent_b = tokens.mint("agent-ada", Role::Agent, Some("Ada")).unwrap();
    let visitor = tokens.mint("visitor-1", Role::Visitor, None).unwrap();
    let routing = suite.routing.metrics_addr;
    let gauges = || async move {
        let s = scrape(routing).await;
        Some((
            s.get("livedesk_routing_waiting_conversations", &[])?,
            s.get("livedesk_routing_pending_offers", &[])?,
        ))
    };
    let wait_for = |want: (f64, f64), what: &'static str| async move {
        eventually(30, what, || async move {
            gauges().await.filter(|g| *g == want).map(|_| ())
        })
        .await
        .unwrap()
    };
    wait_for((0.0, 0.0), "an empty backlog").await;

    // Agent A is available (the widget offers chat), a customer starts a
    // conversation: it waits and is offered to A.
    let mut feed_a = available(&c, &agent_a).await;
    c.conversations
        .clone()
        .start_conversation(authed(
            &visitor,
            cnv::StartConversationRequest {
                channel: Channel::WebChat as i32,
                customer: Some(cnv::Customer {
                    name: "Marie".into(),
                    ..Default::default()
                }),
                first_message: "hello".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    let offer = next_offer(&mut feed_a).await;
    wait_for((1.0, 1.0), "one waiting conversation offered").await;

    // A declines: still waiting, no offer pending (A is excluded).
    c.routing
        .clone()
        .decline_offer(authed(
            &agent_a,
            rtg::DeclineOfferRequest {
                offer_id: offer.id,
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    wait_for((1.0, 0.0), "one waiting conversation, no offer").await;

    // Agent B becomes available, is offered it and accepts: nothing waits.
    let mut feed_b = available(&c, &agent_b).await;
    let offer = next_offer(&mut feed_b).await;
    wait_for((1.0, 1.0), "the conversation offered again").await;
    c.routing
        .clone()
        .accept_offer(authed(
            &agent_b,
            rtg::AcceptOfferRequest { offer_id: offer.id },
        ))
        .await
        .unwrap();
    wait_for((0.0, 0.0), "the backlog drained").await;
    suite.stop().await.unwrap();
}
