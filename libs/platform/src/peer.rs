//! Channels to other Livedesk services, balanced over every replica.
//!
//! gRPC multiplexes all calls over one long-lived HTTP/2 connection, so a
//! channel to a plain Kubernetes ClusterIP Service (one virtual IP, balanced
//! per connection by kube-proxy) sends every call to the one pod it happened
//! to connect to: a second replica gets nothing and a new one never does.
//! Livedesk balances on the client instead, as gRPC's own `dns:///` resolver
//! with `round_robin` does: a peer URL names a headless Service (or any DNS
//! name with several A/AAAA records), its host name is resolved to every
//! address, calls are spread over one connection per address, and the name
//! is resolved again periodically so replicas that come and go are followed.
//!
//! A comma-separated list of URLs is balanced over too (each resolved the
//! same way). Until a name first resolves, or whenever it resolves to
//! nothing, the URL itself stays in the set, so a call fails fast with
//! UNAVAILABLE instead of waiting for an address that may never come.
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::time::Duration;

use tokio::sync::mpsc::Sender;
use tonic::transport::channel::Change;
use tonic::transport::{Channel, Endpoint, Uri};

/// How often peer names are resolved again unless configured
/// (`LIVEDESK_PEER_DNS_REFRESH_SECONDS`).
pub const DEFAULT_DNS_REFRESH: Duration = Duration::from_secs(10);

/// Key of one member of a balanced set: a resolved address, or the URL as
/// written (the fallback while its name does not resolve).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Member {
    Address(SocketAddr),
    Url(String),
}

/// One URL of a peer: its scheme, host and port, and the URL as written.
#[derive(Debug, Clone)]
struct Target {
    url: String,
    scheme: String,
    host: String,
    port: u16,
}

impl Target {
    fn parse(url: &str) -> anyhow::Result<Self> {
        let uri: Uri = url
            .parse()
            .map_err(|e| anyhow::anyhow!("peer url {url:?}: {e}"))?;
        let scheme = uri
            .scheme_str()
            .ok_or_else(|| anyhow::anyhow!("peer url {url:?} has no scheme"))?
            .to_owned();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            other => anyhow::bail!("peer url {url:?}: unsupported scheme {other:?}"),
        };
        let host = uri
            .host()
            .ok_or_else(|| anyhow::anyhow!("peer url {url:?} has no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        Ok(Self {
            url: url.to_owned(),
            scheme,
            port: uri.port_u16().unwrap_or(default_port),
            host,
        })
    }

    /// The addresses the host names now; empty when it does not resolve.
    async fn resolve(&self) -> Vec<SocketAddr> {
        match tokio::net::lookup_host((self.host.as_str(), self.port)).await {
            Ok(addrs) => addrs.collect(),
            Err(e) => {
                tracing::debug!(host = %self.host, error = %e, "peer name does not resolve");
                Vec::new()
            }
        }
    }

    fn endpoint_for(&self, member: &Member) -> anyhow::Result<Endpoint> {
        let url = match member {
            Member::Url(url) => url.clone(),
            Member::Address(SocketAddr::V4(a)) => format!("{}://{a}", self.scheme),
            Member::Address(SocketAddr::V6(a)) => {
                format!("{}://[{}]:{}", self.scheme, a.ip(), a.port())
            }
        };
        Ok(Endpoint::from_shared(url)?
            .connect_timeout(Duration::from_secs(3))
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(20))
            .keep_alive_while_idle(true))
    }
}

/// A lazily connected channel to another service, balanced over every
/// address of every URL in `urls` (comma-separated), re-resolved every
/// `refresh`. Must be called inside a Tokio runtime.
pub fn balanced_channel(urls: &str, refresh: Duration) -> anyhow::Result<Channel> {
    let targets = urls
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(Target::parse)
        .collect::<anyhow::Result<Vec<_>>>()?;
    if targets.is_empty() {
        anyhow::bail!("peer url is empty");
    }
    if refresh.is_zero() {
        anyhow::bail!("the peer DNS refresh period must be positive");
    }
    let (channel, tx) = Channel::balance_channel::<(usize, Member)>(64);
    // The URLs as written go in at once, so the first call never waits for
    // a resolution; the resolver replaces them with addresses.
    for (i, t) in targets.iter().enumerate() {
        let member = Member::Url(t.url.clone());
        tx.try_send(Change::Insert(
            (i, member.clone()),
            t.endpoint_for(&member)?,
        ))
        .map_err(|e| anyhow::anyhow!("peer channel: {e}"))?;
    }
    tokio::spawn(follow(targets, tx, refresh));
    Ok(channel)
}

/// Keeps the balanced set equal to what the names resolve to, until every
/// clone of the channel is dropped.
async fn follow(
    targets: Vec<Target>,
    tx: Sender<Change<(usize, Member), Endpoint>>,
    refresh: Duration,
) {
    let mut current: HashMap<usize, HashSet<Member>> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| (i, HashSet::from([Member::Url(t.url.clone())])))
        .collect();
    loop {
        for (i, target) in targets.iter().enumerate() {
            let addrs = target.resolve().await;
            let wanted: HashSet<Member> = if addrs.is_empty() {
                HashSet::from([Member::Url(target.url.clone())])
            } else {
                addrs.into_iter().map(Member::Address).collect()
            };
            let have = current.entry(i).or_default();
            for gone in have.difference(&wanted).cloned().collect::<Vec<_>>() {
                if tx.send(Change::Remove((i, gone.clone()))).await.is_err() {
                    return;
                }
                have.remove(&gone);
            }
            for new in wanted.difference(have).cloned().collect::<Vec<_>>() {
                let endpoint = match target.endpoint_for(&new) {
                    Ok(e) => e,
                    Err(e) => {
                        tracing::warn!(error = %e, "peer address is not a valid endpoint");
                        continue;
                    }
                };
                if tx
                    .send(Change::Insert((i, new.clone()), endpoint))
                    .await
                    .is_err()
                {
                    return;
                }
                tracing::debug!(url = %target.url, member = ?new, "peer replica added");
                have.insert(new);
            }
        }
        tokio::select! {
            _ = tx.closed() => return,
            _ = tokio::time::sleep(refresh) => {}
        }
    }
}

/// Attempts of an idempotent peer call: the first and four retries.
const IDEMPOTENT_ATTEMPTS: u32 = 5;

/// Whether a failed read may simply be made again: the replica the balancer
/// picked was gone (UNAVAILABLE: refused, reset) or went away while
/// answering (CANCELLED, or UNKNOWN for a transport error: a connection
/// closed mid-call, or any code tonic gave a transport failure, such as
/// INTERNAL for a GOAWAY: `errors::is_transport_failure`).
fn worth_retrying(status: &tonic::Status) -> bool {
    crate::errors::is_transport_failure(status)
        || matches!(
            status.code(),
            tonic::Code::Unavailable | tonic::Code::Cancelled | tonic::Code::Unknown
        )
}

/// Makes an idempotent (read-only) call to a peer, retrying while the
/// replica it reached is gone or going (a rolling restart, a pod
/// rescheduled): a read has no effect to double, so the next attempt, on a
/// fresh pick of the balancer, is safe. Waits 50, 100, 200 and 400 ms
/// between attempts (long enough for a replaced replica to leave the
/// balanced set); any other outcome, and the last failure, is returned as
/// is. `call` builds the request anew each time (a request carries its own
/// token and trace context and is consumed by the call).
pub async fn idempotent<T, F, Fut>(mut call: F) -> Result<T, tonic::Status>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, tonic::Status>>,
{
    let mut delay = Duration::from_millis(50);
    let mut attempt = 1;
    loop {
        match call().await {
            Err(s) if worth_retrying(&s) && attempt < IDEMPOTENT_ATTEMPTS => {
                tracing::debug!(attempt, error = %s.message(), "peer unavailable, trying another replica");
                tokio::time::sleep(delay).await;
                delay *= 2;
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_parsed_with_default_ports_and_bad_ones_refused() {
        let t = Target::parse("http://blocking-headless:50053").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("blocking-headless", 50053));
        assert_eq!(Target::parse("https://x").unwrap().port, 443);
        assert_eq!(Target::parse("http://[::1]:7").unwrap().host, "::1");
        assert!(Target::parse("ftp://x:1").is_err());
        assert!(Target::parse("no-scheme").is_err());
        assert!(balanced_channel(" , ", DEFAULT_DNS_REFRESH).is_err());
    }

    #[test]
    fn an_address_member_becomes_an_endpoint_of_the_same_scheme() {
        let t = Target::parse("http://localhost:9").unwrap();
        let e = t
            .endpoint_for(&Member::Address("[::1]:9".parse().unwrap()))
            .unwrap();
        assert_eq!(e.uri().to_string(), "http://[::1]:9/");
    }
}
