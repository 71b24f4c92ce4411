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
    /// Domain of generated Message-IDs (CNV-14).
    pub email_domain: String,
    /// Sender recorded on outgoing emails.
    pub email_from: String,
    /// Where attachment objects live (CNV-6).
    pub attachments: std::sync::Arc<dyn object_store::ObjectStore>,
    /// Largest attachment accepted.
    pub attachment_max_bytes: u64,
    /// Rate limit of typing indicators (NTF-1).
    pub typing: std::sync::Arc<super::typing::TypingGate>,
}

type Result<T> = std::result::Result<Response<T>, Status>;

#[tonic::async_trait]
impl ConversationsService for ConversationsGrpc {
    type DownloadAttachmentStream = tonic::codegen::BoxStream<pb::DownloadAttachmentResponse>;

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

    async fn pause_conversation(
        &self,
        req: Request<pb::PauseConversationRequest>,
    ) -> Result<pb::Conversation> {
        Ok(Response::new(self.pause(req).await?))
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

    async fn send_typing(
        &self,
        req: Request<pb::SendTypingRequest>,
    ) -> Result<pb::SendTypingResponse> {
        Ok(Response::new(
            ConversationsGrpc::send_typing(self, req).await?,
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

    async fn create_template(
        &self,
        req: Request<pb::CreateTemplateRequest>,
    ) -> Result<pb::Template> {
        Ok(Response::new(
            ConversationsGrpc::create_template(self, req).await?,
        ))
    }

    async fn update_template(
        &self,
        req: Request<pb::UpdateTemplateRequest>,
    ) -> Result<pb::Template> {
        Ok(Response::new(
            ConversationsGrpc::update_template(self, req).await?,
        ))
    }

    async fn delete_template(
        &self,
        req: Request<pb::DeleteTemplateRequest>,
    ) -> Result<pb::DeleteTemplateResponse> {
        Ok(Response::new(
            ConversationsGrpc::delete_template(self, req).await?,
        ))
    }

    async fn list_templates(
        &self,
        req: Request<pb::ListTemplatesRequest>,
    ) -> Result<pb::ListTemplatesResponse> {
        Ok(Response::new(
            ConversationsGrpc::list_templates(self, req).await?,
        ))
    }

    async fn render_template(
        &self,
        req: Request<pb::RenderTemplateRequest>,
    ) -> Result<pb::RenderTemplateResponse> {
        Ok(Response::new(
            ConversationsGrpc::render_template(self, req).await?,
        ))
    }

    async fn update_qualification(
        &self,
        req: Request<pb::UpdateQualificationRequest>,
    ) -> Result<pb::Conversation> {
        Ok(Response::new(
            ConversationsGrpc::update_qualification(self, req).await?,
        ))
    }

    async fn list_qualification_audit(
        &self,
        req: Request<pb::ListQualificationAuditRequest>,
    ) -> Result<pb::ListQualificationAuditResponse> {
        Ok(Response::new(
            ConversationsGrpc::qualification_audit(self, req).await?,
        ))
    }

    async fn set_queue_policy(&self, req: Request<pb::QueuePolicy>) -> Result<pb::QueuePolicy> {
        Ok(Response::new(
            ConversationsGrpc::set_queue_policy(self, req).await?,
        ))
    }

    async fn get_queue_policy(
        &self,
        req: Request<pb::GetQueuePolicyRequest>,
    ) -> Result<pb::QueuePolicy> {
        Ok(Response::new(
            ConversationsGrpc::get_queue_policy(self, req).await?,
        ))
    }

    async fn get_request(&self, req: Request<pb::GetRequestRequest>) -> Result<pb::Request> {
        Ok(Response::new(
            ConversationsGrpc::get_request(self, req).await?,
        ))
    }

    async fn list_requests(
        &self,
        req: Request<pb::ListRequestsRequest>,
    ) -> Result<pb::ListRequestsResponse> {
        Ok(Response::new(
            ConversationsGrpc::list_requests(self, req).await?,
        ))
    }

    async fn update_request(&self, req: Request<pb::UpdateRequestRequest>) -> Result<pb::Request> {
        Ok(Response::new(
            ConversationsGrpc::update_request(self, req).await?,
        ))
    }

    async fn assign_request(&self, req: Request<pb::AssignRequestRequest>) -> Result<pb::Request> {
        Ok(Response::new(
            ConversationsGrpc::assign_request(self, req).await?,
        ))
    }

    async fn create_contact(&self, req: Request<pb::CreateContactRequest>) -> Result<pb::Contact> {
        Ok(Response::new(
            ConversationsGrpc::create_contact(self, req).await?,
        ))
    }

    async fn search_contacts(
        &self,
        req: Request<pb::SearchContactsRequest>,
    ) -> Result<pb::SearchContactsResponse> {
        Ok(Response::new(
            ConversationsGrpc::search_contacts(self, req).await?,
        ))
    }

    async fn attach_contact(&self, req: Request<pb::AttachContactRequest>) -> Result<pb::Request> {
        Ok(Response::new(
            ConversationsGrpc::attach_contact(self, req).await?,
        ))
    }

    async fn send_email(&self, req: Request<pb::SendEmailRequest>) -> Result<pb::HistoryItem> {
        Ok(Response::new(
            ConversationsGrpc::send_email(self, req).await?,
        ))
    }

    async fn ingest_email(
        &self,
        req: Request<pb::IngestEmailRequest>,
    ) -> Result<pb::IngestEmailResponse> {
        Ok(Response::new(
            ConversationsGrpc::ingest_email(self, req).await?,
        ))
    }

    async fn get_request_history(
        &self,
        req: Request<pb::GetRequestHistoryRequest>,
    ) -> Result<pb::GetRequestHistoryResponse> {
        Ok(Response::new(
            ConversationsGrpc::request_history(self, req).await?,
        ))
    }

    async fn list_tags(&self, req: Request<pb::ListTagsRequest>) -> Result<pb::ListTagsResponse> {
        Ok(Response::new(
            ConversationsGrpc::list_tags(self, req).await?,
        ))
    }

    async fn upsert_tag(&self, req: Request<pb::UpsertTagRequest>) -> Result<pb::Tag> {
        Ok(Response::new(
            ConversationsGrpc::upsert_tag(self, req).await?,
        ))
    }

    async fn recommend_tags(
        &self,
        req: Request<pb::RecommendTagsRequest>,
    ) -> Result<pb::RecommendTagsResponse> {
        Ok(Response::new(
            ConversationsGrpc::recommend_tags(self, req).await?,
        ))
    }

    async fn upload_attachment(
        &self,
        req: Request<tonic::Streaming<pb::UploadAttachmentRequest>>,
    ) -> Result<pb::Attachment> {
        Ok(Response::new(self.upload(req).await?))
    }

    async fn download_attachment(
        &self,
        req: Request<pb::DownloadAttachmentRequest>,
    ) -> Result<tonic::codegen::BoxStream<pb::DownloadAttachmentResponse>> {
        Ok(Response::new(self.download(req).await?))
    }
}
