//! The body of one `Subscribe` stream (NTF-1). The database is the truth:
//! the stream sends rows after the last sequence it sent, then waits for a
//! wake-up naming its principal (or the periodic safety re-read) and reads
//! again. A missed wake-up, a lagging broadcast or a reconnect therefore
//! never loses a notification; it can only delay one.
use livedesk_platform::Period;
use livedesk_proto::notifications::v1::notification::Kind;
use livedesk_proto::notifications::v1::{Heartbeat, Notification};
use sea_orm::DatabaseConnection;
use tokio::sync::{broadcast, mpsc};
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;
use tonic::Status;
use uuid::Uuid;

use crate::error::Error;
use crate::events::{TypingNote, Wake};
use crate::store::Feed;

/// Rows read per query.
const PAGE: i64 = 256;

/// One subscriber's stream state.
pub struct Stream {
    pub db: DatabaseConnection,
    pub org: Uuid,
    pub recipient: String,
    /// Last sequence sent (or the start point).
    pub last: i64,
    pub wake: broadcast::Receiver<Wake>,
    /// Typing indicators (NTF-1), sent as they come: not in the feed.
    pub typing: broadcast::Receiver<TypingNote>,
    pub tx: mpsc::Sender<Result<Notification, Status>>,
    pub shutdown: CancellationToken,
    pub timing: StreamTiming,
}

/// The timers of every `Subscribe` stream, from configuration.
#[derive(Debug, Clone, Copy)]
pub struct StreamTiming {
    /// Re-read even without a wake-up this often (`STREAM_REREAD_MS`).
    pub reread: Period,
    /// Send a heartbeat after this long without sending anything
    /// (`STREAM_HEARTBEAT_MS`).
    pub heartbeat: Period,
}

enum Next {
    Read,
    Stop,
}

impl Stream {
    /// Runs until the client goes away or the service shuts down.
    pub async fn run(mut self) {
        let mut last_sent = Instant::now();
        loop {
            match self.drain(&mut last_sent).await {
                Next::Read => {}
                Next::Stop => return,
            }
            if let Next::Stop = self.wait(&mut last_sent).await {
                return;
            }
        }
    }

    /// Sends every row after `last`, in sequence order.
    async fn drain(&mut self, last_sent: &mut Instant) -> Next {
        loop {
            let rows = match Feed::after(&self.db, self.org, &self.recipient, self.last, PAGE).await
            {
                Ok(rows) => rows,
                Err(e) => {
                    // The client resumes from its last sequence on reconnect.
                    return self.fail(Error::FeedUnavailable(e)).await;
                }
            };
            let full = rows.len() as i64 == PAGE;
            for row in rows {
                // An undecodable row ends the stream with INTERNAL (logged
                // with its sequence by the status conversion): skipping it
                // would lose a notification without anyone knowing.
                let n = match crate::views::notification(&row) {
                    Ok(n) => n,
                    Err(corrupt) => return self.fail(corrupt.into()).await,
                };
                if self.tx.send(Ok(n)).await.is_err() {
                    return Next::Stop;
                }
                *last_sent = Instant::now();
                self.last = row.seq;
            }
            if !full {
                return Next::Read;
            }
        }
    }

    /// Ends the stream with `e`'s status (the one conversion of errors).
    async fn fail(&self, e: Error) -> Next {
        let _ = self.tx.send(Err(Status::from(e))).await;
        Next::Stop
    }

    /// Waits for a reason to read again; sends heartbeats while idle.
    async fn wait(&mut self, last_sent: &mut Instant) -> Next {
        let reread = Instant::now() + self.timing.reread.get();
        loop {
            tokio::select! {
                _ = self.shutdown.cancelled() => return Next::Stop,
                _ = self.tx.closed() => return Next::Stop,
                _ = sleep_until(reread) => return Next::Read,
                _ = sleep_until(*last_sent + self.timing.heartbeat.get()) => {
                    let beat = Notification { sequence: 0, at: None, conversation_id: String::new(), kind: Some(Kind::Heartbeat(Heartbeat {})) };
                    if self.tx.send(Ok(beat)).await.is_err() {
                        return Next::Stop;
                    }
                    *last_sent = Instant::now();
                }
                t = self.typing.recv() => match t {
                    Ok(t) if t.concerns(self.org, &self.recipient) => {
                        if self.tx.send(Ok((*t.notification).clone())).await.is_err() {
                            return Next::Stop;
                        }
                        *last_sent = Instant::now();
                    }
                    // Missed indicators are stale anyway.
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return Next::Stop,
                },
                w = self.wake.recv() => match w {
                    Ok(w) if w.concerns(self.org, &self.recipient) => return Next::Read,
                    Ok(_) => {}
                    // Missed some wake-ups: one read catches up on all of them.
                    Err(broadcast::error::RecvError::Lagged(_)) => return Next::Read,
                    Err(broadcast::error::RecvError::Closed) => return Next::Stop,
                },
            }
        }
    }
}
