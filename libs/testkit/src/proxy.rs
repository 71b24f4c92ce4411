//! A TCP proxy the test controls, for network cuts between a client and a
//! server (PostgreSQL, a NATS node): [`TcpProxy::cut`] drops every open
//! connection and refuses new ones until [`TcpProxy::heal`], as a broken
//! link or a partition would look to both sides.
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Forwards `127.0.0.1:<port>` to a target address.
#[derive(Debug)]
pub struct TcpProxy {
    pub port: u16,
    cut: Arc<AtomicBool>,
    /// Bumped on every cut: open connections end when it changes.
    generation: watch::Sender<u64>,
    accept: tokio::task::JoinHandle<()>,
}

impl TcpProxy {
    /// Listens on a reserved port and forwards each connection to `target`.
    pub async fn start(target: SocketAddr) -> anyhow::Result<Self> {
        let port = crate::reserve_port()?;
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let cut = Arc::new(AtomicBool::new(false));
        let (generation, _) = watch::channel(0u64);
        let accept = {
            let (cut, generation) = (cut.clone(), generation.clone());
            tokio::spawn(async move {
                while let Ok((inbound, _)) = listener.accept().await {
                    if cut.load(Ordering::SeqCst) {
                        drop(inbound); // refused while the link is down
                        continue;
                    }
                    let mut ended = generation.subscribe();
                    tokio::spawn(async move {
                        let Ok(mut outbound) = TcpStream::connect(target).await else {
                            return;
                        };
                        let mut inbound = inbound;
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                            _ = ended.changed() => {}
                        }
                    });
                }
            })
        };
        Ok(Self {
            port,
            cut,
            generation,
            accept,
        })
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Cuts every one of `links` for `hold`, then heals them.
    pub async fn cut_for(links: &[&TcpProxy], hold: std::time::Duration) {
        for l in links {
            l.cut();
        }
        tokio::time::sleep(hold).await;
        for l in links {
            l.heal();
        }
    }

    /// Drops every open connection and refuses new ones.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    /// Lets connections through again.
    pub fn heal(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.generation.send_modify(|g| *g += 1);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// An echo server behind the proxy: bytes pass, a cut ends the open
    /// connection and refuses new ones, a heal lets them through again.
    #[tokio::test]
    async fn a_cut_drops_and_refuses_connections_until_healed() {
        let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = echo.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = echo.accept().await {
                tokio::spawn(async move {
                    let (mut r, mut w) = s.split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        });
        let proxy = TcpProxy::start(target).await.unwrap();
        let roundtrip = |mut c: TcpStream| async move {
            c.write_all(b"ping").await.ok()?;
            let mut buf = [0u8; 4];
            c.read_exact(&mut buf).await.ok()?;
            Some((c, buf))
        };
        let open = TcpStream::connect(proxy.addr()).await.unwrap();
        let (mut open, buf) = roundtrip(open).await.unwrap();
        assert_eq!(&buf, b"ping");

        proxy.cut();
        let mut buf = [0u8; 1];
        assert_eq!(
            open.read(&mut buf).await.unwrap_or(0),
            0,
            "the open connection ends"
        );
        let refused = TcpStream::connect(proxy.addr()).await.unwrap();
        assert!(roundtrip(refused).await.is_none(), "a new one is dropped");

        proxy.heal();
        let again = TcpStream::connect(proxy.addr()).await.unwrap();
        assert_eq!(roundtrip(again).await.unwrap().1, *b"ping");
    }
}
