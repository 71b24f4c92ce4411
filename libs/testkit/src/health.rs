//! Asking a running service what grpc.health.v1 and reflection say about
//! it, as a load balancer or an operator would.
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
pub use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

/// What `Check` answers for `service` (`""` is the whole server), or
/// `None` when the call fails.
pub async fn health_status(channel: Channel, service: &str) -> Option<ServingStatus> {
    let resp = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.into(),
        })
        .await
        .ok()?;
    ServingStatus::try_from(resp.into_inner().status).ok()
}

/// Waits (polling, up to `secs`) until every one of `services` reports
/// `status`; the error names the first that did not.
pub async fn wait_for_health(
    channel: &Channel,
    services: &[String],
    status: ServingStatus,
    secs: u64,
) -> anyhow::Result<()> {
    for name in services {
        crate::eventually(secs, &format!("{name:?} to report {status:?}"), || {
            let c = channel.clone();
            async move { (health_status(c, name).await == Some(status)).then_some(()) }
        })
        .await?;
    }
    Ok(())
}

/// The Livedesk gRPC services (`livedesk.…`) a server lists by reflection:
/// the names its health reports on.
pub async fn livedesk_services(channel: Channel) -> anyhow::Result<Vec<String>> {
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = ServerReflectionClient::new(channel)
        .server_reflection_info(tokio_stream::iter([req]))
        .await?
        .into_inner();
    let resp = stream
        .message()
        .await?
        .ok_or_else(|| anyhow::anyhow!("reflection closed without an answer"))?;
    let Some(MessageResponse::ListServicesResponse(list)) = resp.message_response else {
        anyhow::bail!("reflection answered {resp:?}, not a service list");
    };
    Ok(list
        .service
        .into_iter()
        .map(|s| s.name)
        .filter(|n| n.starts_with("livedesk."))
        .collect())
}

/// Opens `Watch` streams for `services` (each first yields the current
/// status, then every change). A watch keeps answering while the server
/// drains, when new calls are refused: the one way to see what health says
/// during a drain.
pub async fn watch_health(
    channel: &Channel,
    services: &[String],
) -> anyhow::Result<
    Vec<(
        String,
        tonic::Streaming<tonic_health::pb::HealthCheckResponse>,
    )>,
> {
    let mut watches = Vec::new();
    for name in services {
        let stream = HealthClient::new(channel.clone())
            .watch(HealthCheckRequest {
                service: name.clone(),
            })
            .await?
            .into_inner();
        watches.push((name.clone(), stream));
    }
    Ok(watches)
}

/// Reads `watch` until it reports `status`, up to `secs`.
pub async fn watch_until(
    name: &str,
    watch: &mut tonic::Streaming<tonic_health::pb::HealthCheckResponse>,
    status: ServingStatus,
    secs: u64,
) -> anyhow::Result<()> {
    let wait = async {
        loop {
            match watch.message().await? {
                Some(r) if r.status == status as i32 => return Ok(()),
                Some(_) => {}
                None => anyhow::bail!("the watch of {name:?} ended before {status:?}"),
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(secs), wait)
        .await
        .map_err(|_| anyhow::anyhow!("{name:?} did not report {status:?} within {secs}s"))?
}
