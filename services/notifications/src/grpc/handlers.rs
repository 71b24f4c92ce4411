//! `NotificationsService` handlers: authenticate, parse, read.
use std::pin::Pin;

use livedesk_auth::{Role, principal};
use livedesk_platform::errors::{FieldViolation, parse_uuid};
use livedesk_proto::notifications::v1 as pb;
use livedesk_proto::notifications::v1::notifications_service_server::NotificationsService;
use sea_orm::DatabaseConnection;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::subscribe::{Stream, StreamTiming};
use crate::domain::StartAt;
use crate::error::Error;
use crate::events::Fanout;
use crate::store::{Emails, Feed};

/// The gRPC service.
#[derive(Clone)]
pub struct NotificationsGrpc {
    pub db: DatabaseConnection,
    pub fanout: Fanout,
    /// Cancelled when the service shuts down: open streams end, so the
    /// server's graceful drain completes.
    pub shutdown: CancellationToken,
    pub timing: StreamTiming,
}

type Result<T> = std::result::Result<Response<T>, Status>;
type NotificationStream =
    Pin<Box<dyn tokio_stream::Stream<Item = std::result::Result<pb::Notification, Status>> + Send>>;

impl NotificationsGrpc {
    async fn open(
        &self,
        req: Request<pb::SubscribeRequest>,
    ) -> std::result::Result<NotificationStream, Error> {
        let who = principal(&req)?;
        // A feed belongs to a person; services have none.
        who.require(
            &[Role::Visitor, Role::Agent, Role::Supervisor, Role::Admin],
            "subscribe to notifications",
        )?;
        let body = req.get_ref();
        let start = StartAt::parse(body.after_sequence, body.replay_all)?;
        // Subscribe to wake-ups before reading, so none falls in between.
        let wake = self.fanout.subscribe();
        let typing = self.fanout.subscribe_typing();
        let last = start.resolve(Feed::last_seq(&self.db, who.org_id, &who.id).await?)?;
        let (tx, rx) = mpsc::channel(64);
        let stream = Stream {
            db: self.db.clone(),
            org: who.org_id,
            recipient: who.id,
            last,
            wake,
            typing,
            tx,
            shutdown: self.shutdown.clone(),
            timing: self.timing,
        };
        tokio::spawn(stream.run());
        Ok(Box::pin(ReceiverStream::new(rx)))
    }

    async fn get(
        &self,
        req: Request<pb::GetEmailDeliveryRequest>,
    ) -> std::result::Result<pb::EmailDelivery, Error> {
        let who = principal(&req)?;
        who.require_staff("read email deliveries")?;
        let id = parse_uuid("id", &req.get_ref().id)?;
        let row = Emails::get(&self.db, who.org_id, id)
            .await?
            .ok_or(Error::DeliveryNotFound)?;
        Ok(crate::views::delivery(&row)?)
    }

    async fn list(
        &self,
        req: Request<pb::ListEmailDeliveriesRequest>,
    ) -> std::result::Result<pb::ListEmailDeliveriesResponse, Error> {
        let who = principal(&req)?;
        who.require_staff("list email deliveries")?;
        let request_id = req.get_ref().request_id.trim();
        if request_id.is_empty() {
            return Err(FieldViolation::new("request_id", "is required").into());
        }
        let rows = Emails::by_request(&self.db, who.org_id, request_id).await?;
        // One unreadable row fails the list: it is never left out.
        let deliveries = rows
            .iter()
            .map(crate::views::delivery)
            .collect::<std::result::Result<_, _>>()?;
        Ok(pb::ListEmailDeliveriesResponse { deliveries })
    }
}

#[tonic::async_trait]
impl NotificationsService for NotificationsGrpc {
    type SubscribeStream = NotificationStream;

    async fn subscribe(&self, req: Request<pb::SubscribeRequest>) -> Result<NotificationStream> {
        Ok(Response::new(self.open(req).await?))
    }

    async fn get_email_delivery(
        &self,
        req: Request<pb::GetEmailDeliveryRequest>,
    ) -> Result<pb::EmailDelivery> {
        Ok(Response::new(self.get(req).await?))
    }

    async fn list_email_deliveries(
        &self,
        req: Request<pb::ListEmailDeliveriesRequest>,
    ) -> Result<pb::ListEmailDeliveriesResponse> {
        Ok(Response::new(self.list(req).await?))
    }
}
