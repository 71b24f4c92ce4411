//! Finding PostgreSQL and NATS for tests.
use std::sync::Arc;

/// Containers kept alive for the whole test process (testcontainers' reaper
/// removes them when it exits).
pub struct Containers {
    #[cfg(feature = "docker")]
    _pg: testcontainers::ContainerAsync<testcontainers_modules::postgres::Postgres>,
    #[cfg(feature = "docker")]
    _nats: testcontainers::ContainerAsync<testcontainers_modules::nats::Nats>,
}

static CONTAINERS: tokio::sync::OnceCell<Arc<Containers>> = tokio::sync::OnceCell::const_new();
static CONTAINER_URLS: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();

/// Returns (PostgreSQL server URL, NATS URL, containers if started).
pub async fn locate() -> anyhow::Result<(String, String, Option<Arc<Containers>>)> {
    let db = std::env::var("LIVEDESK_TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty());
    let nats = std::env::var("LIVEDESK_TEST_NATS_URL")
        .ok()
        .filter(|v| !v.is_empty());
    if let (Some(db), Some(nats)) = (db, nats) {
        return Ok((db, nats, None));
    }
    if docker_reachable() {
        let c = CONTAINERS.get_or_try_init(start_containers).await?.clone();
        if let Some((db, nats)) = CONTAINER_URLS.get() {
            return Ok((db.clone(), nats.clone(), Some(c)));
        }
    }
    // Last resort: the conventional local servers, when they answer.
    let (db, nats) = (
        "postgres://postgres@127.0.0.1:5432".to_string(),
        "nats://127.0.0.1:4222".to_string(),
    );
    if tokio::net::TcpStream::connect("127.0.0.1:5432")
        .await
        .is_ok()
        && tokio::net::TcpStream::connect("127.0.0.1:4222")
            .await
            .is_ok()
    {
        return Ok((db, nats, None));
    }
    anyhow::bail!(
        "no test servers: set LIVEDESK_TEST_DATABASE_URL and LIVEDESK_TEST_NATS_URL \
         (`make test` does), or make a Docker engine reachable for testcontainers"
    )
}

fn docker_reachable() -> bool {
    cfg!(feature = "docker")
        && (std::env::var("DOCKER_HOST").is_ok_and(|v| !v.is_empty())
            || std::os::unix::net::UnixStream::connect("/var/run/docker.sock").is_ok())
}

#[cfg(feature = "docker")]
async fn start_containers() -> anyhow::Result<Arc<Containers>> {
    use testcontainers::ImageExt;
    use testcontainers::runners::AsyncRunner;
    let pg = testcontainers_modules::postgres::Postgres::default()
        .with_tag("15-alpine")
        .start()
        .await?;
    let pg_port = pg.get_host_port_ipv4(5432).await?;
    let cmd = testcontainers_modules::nats::NatsServerCmd::default().with_jetstream();
    let nats = testcontainers_modules::nats::Nats::default()
        .with_cmd(&cmd)
        .start()
        .await?;
    let nats_port = nats.get_host_port_ipv4(4222).await?;
    let _ = CONTAINER_URLS.set((
        format!("postgres://postgres:postgres@127.0.0.1:{pg_port}"),
        format!("nats://127.0.0.1:{nats_port}"),
    ));
    Ok(Arc::new(Containers {
        _pg: pg,
        _nats: nats,
    }))
}

#[cfg(not(feature = "docker"))]
async fn start_containers() -> anyhow::Result<Arc<Containers>> {
    anyhow::bail!("built without the docker feature")
}
