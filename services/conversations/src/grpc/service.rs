//! The `ConversationsService` trait: each RPC delegates to a method that
//! returns the crate's `Error`, converted to a status at this one edge.
use livedesk_events::Outbox;
use livedesk_platform::Runtime;
use livedesk_proto::blocking::v1::blocking_service_client::BlockingServiceClient;
use livedesk_proto::conversations::v1 as pb;
use livedesk_proto::conversations::v1::conversations_service_server::ConversationsService;
use livedesk_proto::scheduling::v1::scheduling_service_client::SchedulingServiceClient;
use sea_orm::DatabaseConnection;
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

/// The gRPC service.
#[derive(Clone)]
pub struct ConversationsGrpc {
    pub db: DatabaseConnection,
    pub outbox: Outbox,
    pub rt: Runtime,
    pub blocking: BlockingServiceClient<Channel>,
    pub scheduling: SchedulingServiceClient<Channel>,
}

type Result<T> = std::result::Result<Response<T>, Status>;

#[tonic::async_trait]
impl ConversationsService for ConversationsGrpc {
    async fn start_conversation(
        &self,
        req: Request<pb::StartConversationRequest>,
    ) -> Result<pb::StartConversationResponse> {
        Ok(Response::new(self.start(req).await?))
    }

    async fn get_conversation(
        &self,
        req: Request<pb::GetConversationRequest>,
    ) -> Result<pb::Conversation> {
        Ok(Response::new(self.get(req).await?))
    }

    async fn list_conversations(
        &self,
        req: Request<pb::ListConversationsRequest>,
    ) -> Result<pb::ListConversationsResponse> {
        Ok(Response::new(self.list(req).await?))
    }

    async fn end_conversation(
        &self,
        req: Request<pb::EndConversationRequest>,
    ) -> Result<pb::Conversation> {
        Ok(Response::new(self.end(req).await?))
    }

    async fn get_customer_identities(
        &self,
        req: Request<pb::GetCustomerIdentitiesRequest>,
    ) -> Result<pb::GetCustomerIdentitiesResponse> {
        Ok(Response::new(self.customer_identities(req).await?))
    }

    async fn send_message(
        &self,
        req: Request<pb::SendMessageRequest>,
    ) -> Result<pb::SendMessageResponse> {
        Ok(Response::new(
            ConversationsGrpc::send_message(self, req).await?,
        ))
    }

    async fn list_messages(
        &self,
        req: Request<pb::ListMessagesRequest>,
    ) -> Result<pb::ListMessagesResponse> {
        Ok(Response::new(
            ConversationsGrpc::list_messages(self, req).await?,
        ))
    }

    async fn get_settings(
        &self,
        req: Request<pb::GetSettingsRequest>,
    ) -> Result<pb::ConversationSettings> {
        Ok(Response::new(
            ConversationsGrpc::get_settings(self, req).await?,
        ))
    }

    async fn update_settings(
        &self,
        req: Request<pb::ConversationSettings>,
    ) -> Result<pb::ConversationSettings> {
        Ok(Response::new(
            ConversationsGrpc::update_settings(self, req).await?,
        ))
    }
}
