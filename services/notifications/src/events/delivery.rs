//! The email delivery worker (NTF-2), running in every replica: it claims
//! due deliveries (SKIP LOCKED, a lease, a claim token), sends each over
//! SMTP with no transaction open, then records the outcome with a
//! conditional update and stages `EmailDeliveryChanged` in the same
//! transaction. Woken at once when a new delivery is committed; the period
//! is the safety net (retries coming due, rows of a crashed worker).
use std::sync::Arc;
use std::time::Duration;

use livedesk_platform::Period;

use chrono::Utc;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::{AsyncSmtpTransport, AsyncSmtpTransportBuilder};
use lettre::{Address, AsyncTransport, Message, Tokio1Executor};
use livedesk_events::Outbox;
use livedesk_proto::notifications::v1::EmailDeliveryChanged;
use sea_orm::{DatabaseConnection, TransactionTrait};
use secrecy::ExposeSecret;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::config::SmtpConfig;
use crate::domain::{
    Attempt, DeliveryState, RetryPolicy, Status, html_from_text, message_id, safe_error,
};
use crate::error::Error;
use crate::store::{Claimed, Emails};

/// Deliveries claimed at once by one worker.
const BATCH: i64 = 16;

/// Composes and sends messages over one SMTP relay.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    message_id_domain: String,
    timeout: Duration,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("message_id_domain", &self.message_id_domain)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// The transport of `url` (`smtp://`, `smtp://…?tls=required`, `smtps://`).
    pub fn transport_builder(
        url: &str,
    ) -> Result<AsyncSmtpTransportBuilder, lettre::transport::smtp::Error> {
        AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
    }

    /// A mailer for the configured relay.
    pub fn new(cfg: &SmtpConfig) -> anyhow::Result<Self> {
        let mut builder = Self::transport_builder(cfg.url.expose_secret().trim())
            .map_err(|e| anyhow::anyhow!("SMTP_URL: {e}"))?
            .timeout(Some(cfg.timeout));
        if let Some((user, password)) = &cfg.credentials {
            builder = builder.credentials(Credentials::new(
                user.expose_secret().to_owned(),
                password.expose_secret().to_owned(),
            ));
        }
        let from: Address = cfg
            .from
            .as_str()
            .parse()
            .map_err(|_| anyhow::anyhow!("SMTP_FROM is not a valid address"))?;
        Ok(Self {
            transport: builder.build(),
            from: Mailbox::new(None, from),
            message_id_domain: cfg.message_id_domain.clone(),
            timeout: cfg.timeout,
        })
    }

    /// The message of a delivery: typed headers only (addresses and
    /// subject were validated when recorded, and lettre encodes them
    /// again), text and HTML as multipart/alternative, the HTML built
    /// from escaped text when the source had none.
    pub fn compose(&self, d: &Claimed) -> Result<Message, String> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(d.subject.clone())
            .message_id(Some(message_id(d.id, &self.message_id_domain)));
        let to = d.to();
        if to.is_empty() {
            return Err("no recipient".into());
        }
        for (i, raw) in to.iter().enumerate() {
            let addr: Address = raw
                .parse()
                .map_err(|_| format!("recipient {i} is not a valid address"))?;
            builder = builder.to(Mailbox::new(None, addr));
        }
        let text = d.text_body.as_str();
        let html = d.html_body.as_str();
        let built = match (text.trim().is_empty(), html.trim().is_empty()) {
            (false, false) => builder.multipart(MultiPart::alternative_plain_html(
                text.to_owned(),
                html.to_owned(),
            )),
            (false, true) => builder.multipart(MultiPart::alternative_plain_html(
                text.to_owned(),
                html_from_text(text),
            )),
            (true, false) => builder.singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .body(html.to_owned()),
            ),
            (true, true) => return Err("empty body".into()),
        };
        built.map_err(|e| format!("message not built: {e}"))
    }

    /// One SMTP conversation, bounded by the timeout as a whole.
    pub async fn send(&self, message: Message) -> Attempt {
        match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Ok(Ok(_)) => Attempt::Sent,
            Ok(Err(e)) => Attempt::Failed {
                // 5xx: the relay refused for good. Everything else (4xx,
                // refused connection, timeout, TLS or I/O) may pass later.
                permanent: e.is_permanent(),
                error: safe_error(&e.to_string()),
            },
            Err(_) => Attempt::Failed {
                error: format!(
                    "SMTP conversation timed out after {} ms",
                    self.timeout.as_millis()
                ),
                permanent: false,
            },
        }
    }
}

/// The worker of one replica.
pub struct DeliveryWorker {
    pub db: DatabaseConnection,
    pub outbox: Outbox,
    pub mailer: Mailer,
    pub retry: RetryPolicy,
    pub lease: Duration,
    /// The safety net behind the wake-up (`EMAIL_WORKER_PERIOD_MS`).
    pub period: Period,
    /// Notified after a consumer commits a new PENDING delivery.
    pub wake: Arc<Notify>,
}

impl DeliveryWorker {
    /// Runs until shutdown: drains what is due, then waits for a wake-up
    /// or the period.
    ///
    /// Not `livedesk_platform::tasks::every`: besides its period this
    /// worker wakes at once when a consumer commits a new delivery (the
    /// `Notify`), and it drains whole batches before it waits, so it keeps
    /// its own `select!`; the period is still a validated [`Period`] from
    /// configuration.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            loop {
                match self.run_once(&shutdown).await {
                    Ok(n) if n as i64 == BATCH && !shutdown.is_cancelled() => continue,
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "email delivery round failed");
                        break;
                    }
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.period.get()) => {}
            }
        }
    }

    /// Claims one batch and attempts each; returns how many were claimed.
    pub async fn run_once(&self, shutdown: &CancellationToken) -> Result<usize, Error> {
        let token = Uuid::now_v7();
        let claimed = Emails::claim(&self.db, token, self.lease, BATCH).await?;
        let n = claimed.len();
        for (i, d) in claimed.iter().enumerate() {
            if shutdown.is_cancelled() {
                // Not attempted: due again at once for another replica.
                for rest in &claimed[i..] {
                    Emails::release(&self.db, rest.id, token).await?;
                }
                break;
            }
            self.attempt(d).await?;
        }
        Ok(n)
    }

    async fn attempt(&self, d: &Claimed) -> Result<(), Error> {
        // An unknown stored status is a corrupt row: never sent on a guess
        // (the round fails and is logged; the row stays claimed until its
        // lease passes).
        let status = d.status()?;
        let attempts = u32::try_from(d.attempts).map_err(|_| crate::error::Corrupt::Delivery {
            id: d.id,
            what: "attempts",
            value: d.attempts.to_string(),
        })?;
        let before = DeliveryState {
            status,
            attempts: attempts.saturating_sub(1),
        };
        let outcome = if attempts > self.retry.max_attempts {
            // Every worker holding it died before recording: stop here.
            Attempt::Failed {
                error: "gave up: attempt limit reached without an outcome".into(),
                permanent: true,
            }
        } else {
            match self.mailer.compose(d) {
                Ok(message) => self.mailer.send(message).await,
                Err(error) => Attempt::Failed {
                    error,
                    permanent: true,
                },
            }
        };
        let jitter: f64 = rand::random();
        let Some(t) = before.after_with(outcome, &self.retry, jitter, Utc::now()) else {
            return Ok(());
        };
        let txn = self.db.begin().await?;
        let Some(row) = Emails::finish(&txn, d.id, d.claim_token, &t).await? else {
            // The lease ran out and another worker owns it now.
            tracing::warn!(delivery_id = %d.id, "email delivery claim lost before its outcome was recorded");
            return Ok(());
        };
        let staged = self
            .outbox
            .stage(
                &txn,
                d.org_id,
                d.id,
                &EmailDeliveryChanged {
                    delivery: Some(crate::views::delivery(&row)?),
                },
            )
            .await?;
        txn.commit().await?;
        self.outbox.publish(vec![staged]).await;
        // The error never holds an address (safe_error); ids only otherwise.
        match t.status {
            Status::Sent => {
                tracing::info!(delivery_id = %d.id, attempts = t.attempts, "email sent")
            }
            Status::Retrying => tracing::warn!(
                delivery_id = %d.id, attempts = t.attempts, error = %t.last_error,
                "email not sent, will retry"
            ),
            _ => tracing::warn!(
                delivery_id = %d.id, attempts = t.attempts, error = %t.last_error,
                "email delivery failed"
            ),
        }
        Ok(())
    }
}
