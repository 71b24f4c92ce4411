//! Finding PostgreSQL and NATS for tests.
//!
//! With `LIVEDESK_TEST_DATABASE_URL` and `LIVEDESK_TEST_NATS_URL` set, those
//! servers; otherwise, when a Docker-compatible engine answers (Docker, or
//! Podman's API socket named by `DOCKER_HOST`), containers started with
//! testcontainers from the images `LIVEDESK_TEST_POSTGRES_IMAGE` and
//! `LIVEDESK_TEST_NATS_IMAGE` (default: the project's own images that
//! `make images` builds, so nothing has to be pulled); otherwise the
//! conventional local ports when they answer.
use std::sync::Arc;

/// The PostgreSQL 15 image tests ask for unless told otherwise.
pub const DEFAULT_POSTGRES_IMAGE: &str = "localhost/livedesk/postgres:15";
/// The NATS (JetStream) image tests ask for unless told otherwise.
pub const DEFAULT_NATS_IMAGE: &str = "localhost/livedesk/nats:2.9";

/// Containers kept for the whole test process. A process-wide value is
/// never dropped, so the containers outlive the process: `make
/// test-containers` removes them by their label afterwards.
pub struct Containers {
    #[cfg(feature = "docker")]
    _pg: testcontainers::ContainerAsync<testcontainers::GenericImage>,
    #[cfg(feature = "docker")]
    _nats: testcontainers::ContainerAsync<testcontainers::GenericImage>,
}

static CONTAINERS: tokio::sync::OnceCell<Arc<Containers>> = tokio::sync::OnceCell::const_new();
static CONTAINER_URLS: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();

/// Returns (PostgreSQL server URL, NATS URL, containers if started).
pub async fn locate() -> anyhow::Result<(String, String, Option<Arc<Containers>>)> {
    let db = env_nonempty("LIVEDESK_TEST_DATABASE_URL");
    let nats = env_nonempty("LIVEDESK_TEST_NATS_URL");
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
         (`make test` does), or make a Docker-compatible engine reachable for testcontainers \
         (`make test-containers` uses Podman's socket)"
    )
}

fn env_nonempty(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

fn docker_reachable() -> bool {
    cfg!(feature = "docker")
        && (env_nonempty("DOCKER_HOST").is_some()
            || std::os::unix::net::UnixStream::connect("/var/run/docker.sock").is_ok())
}

/// Splits `name:tag` (the tag after the last `:` that follows the last `/`).
fn split_image(image: &str) -> (String, String) {
    match image.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name.to_owned(), tag.to_owned()),
        _ => (image.to_owned(), "latest".to_owned()),
    }
}

#[cfg(feature = "docker")]
async fn start_containers() -> anyhow::Result<Arc<Containers>> {
    use testcontainers::core::{ContainerPort, WaitFor};
    use testcontainers::runners::AsyncRunner;
    use testcontainers::{GenericImage, ImageExt};

    let pg_image = env_nonempty("LIVEDESK_TEST_POSTGRES_IMAGE")
        .unwrap_or_else(|| DEFAULT_POSTGRES_IMAGE.to_owned());
    let nats_image =
        env_nonempty("LIVEDESK_TEST_NATS_IMAGE").unwrap_or_else(|| DEFAULT_NATS_IMAGE.to_owned());
    let hint = "(build it with `make images`, or name another with LIVEDESK_TEST_POSTGRES_IMAGE / LIVEDESK_TEST_NATS_IMAGE)";

    // Host ports are chosen here rather than read back: Podman 4.3's
    // Docker API reports published ports with an empty host IP, which
    // testcontainers skips ("does not expose port").
    let (pg_port, nats_port) = (crate::reserve_port()?, crate::reserve_port()?);
    let (name, tag) = split_image(&pg_image);
    let pg = GenericImage::new(name, tag)
        .with_exposed_port(ContainerPort::Tcp(5432))
        .with_wait_for(WaitFor::message_on_either_std(
            "database system is ready to accept connections",
        ))
        // The upstream image's settings, harmless for ours: trust on a
        // private test container.
        .with_env_var("POSTGRES_HOST_AUTH_METHOD", "trust")
        .with_label("livedesk.test", "testkit")
        .with_mapped_port(pg_port, ContainerPort::Tcp(5432))
        .with_startup_timeout(std::time::Duration::from_secs(120))
        .start()
        .await
        .map_err(|e| anyhow::anyhow!("starting {pg_image}: {e} {hint}"))?;
    let (name, tag) = split_image(&nats_image);
    let nats = GenericImage::new(name, tag)
        .with_exposed_port(ContainerPort::Tcp(4222))
        .with_wait_for(WaitFor::message_on_either_std("Server is ready"))
        .with_label("livedesk.test", "testkit")
        .with_mapped_port(nats_port, ContainerPort::Tcp(4222))
        .with_startup_timeout(std::time::Duration::from_secs(60))
        .start()
        .await
        .map_err(|e| anyhow::anyhow!("starting {nats_image}: {e} {hint}"))?;
    let db = format!("postgres://postgres@127.0.0.1:{pg_port}");
    let nats_url = format!("nats://127.0.0.1:{nats_port}");
    wait_until_usable(&db, &nats_url).await?;
    let _ = CONTAINER_URLS.set((db, nats_url));
    Ok(Arc::new(Containers {
        _pg: pg,
        _nats: nats,
    }))
}

/// A log line is not a connection: wait until PostgreSQL answers a query
/// and NATS a round trip through the published ports.
#[cfg(feature = "docker")]
async fn wait_until_usable(db: &str, nats: &str) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut last = String::new();
    while tokio::time::Instant::now() < deadline {
        let pg_ok = match livedesk_platform::db::connect(&format!("{db}/postgres")).await {
            Ok(conn) => livedesk_platform::db::ping(&conn).await,
            Err(e) => {
                last = format!("PostgreSQL at {db}: {e}");
                false
            }
        };
        let nats_ok = match async_nats::connect(nats).await {
            Ok(client) => match client.flush().await {
                Ok(()) => true,
                Err(e) => {
                    last = format!("NATS at {nats}: {e}");
                    false
                }
            },
            Err(e) => {
                last = format!("NATS at {nats}: {e}");
                false
            }
        };
        if pg_ok && nats_ok {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    anyhow::bail!("test containers did not become usable: {last}")
}

#[cfg(not(feature = "docker"))]
async fn start_containers() -> anyhow::Result<Arc<Containers>> {
    anyhow::bail!("built without the docker feature")
}

#[cfg(test)]
mod tests {
    use super::split_image;

    #[test]
    fn image_names_split_at_the_tag_not_at_a_registry_port() {
        assert_eq!(
            split_image("localhost/livedesk/postgres:15"),
            ("localhost/livedesk/postgres".into(), "15".into())
        );
        assert_eq!(
            split_image("registry:5000/nats"),
            ("registry:5000/nats".into(), "latest".into())
        );
    }
}
