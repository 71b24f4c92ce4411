//! gRPC handlers of `livedesk.routing.v1.RoutingService`. Each room
//! (agents, queues, waiting, offers, assign, transfer, conference, delete,
//! wrap-up) holds the logic; this file maps the trait onto it. The trait
//! has no generated default bodies, so an RPC missing here does not
//! compile.

mod agents;
mod assign;
mod conference;
mod delete;
mod offers;
mod privacy;
mod queues;
mod transfer;
mod waiting;
mod wrapup;

use livedesk_events::Outbox;
use livedesk_proto::routing::v1 as pb;
use livedesk_proto::routing::v1::routing_service_server::RoutingService;
use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use crate::engine::Router;

/// The gRPC service.
#[derive(Clone)]
pub struct RoutingGrpc {
    pub db: DatabaseConnection,
    pub outbox: Outbox,
    pub router: Router,
}

type Result<T> = std::result::Result<Response<T>, Status>;

/// The caller of an RPC agents take part in (agents, and supervisors and
/// admins acting as agents; a service never does), checked for `action`.
fn acting_agent<T>(
    req: &Request<T>,
    action: &'static str,
) -> std::result::Result<livedesk_auth::Principal, crate::error::Error> {
    let who = livedesk_auth::principal(req)?;
    who.require(
        &[
            livedesk_auth::Role::Agent,
            livedesk_auth::Role::Supervisor,
            livedesk_auth::Role::Admin,
        ],
        action,
    )?;
    Ok(who)
}

impl RoutingGrpc {
    /// Commits a handler's transaction, then publishes what it staged (the
    /// outbox relay publishes it anyway if this replica stops in between).
    async fn commit(
        &self,
        txn: sea_orm::DatabaseTransaction,
        staged: Vec<livedesk_events::Staged>,
    ) -> std::result::Result<(), sea_orm::DbErr> {
        txn.commit().await?;
        self.outbox.publish(staged).await;
        Ok(())
    }
}

macro_rules! rpcs {
    ($($name:ident($req:ty) -> $resp:ty;)*) => {
        #[tonic::async_trait]
        impl RoutingService for RoutingGrpc {
            $(async fn $name(&self, req: Request<$req>) -> Result<$resp> {
                Ok(Response::new(RoutingGrpc::$name(self, req).await?))
            })*
        }
    };
}

rpcs! {
    upsert_agent(pb::UpsertAgentRequest) -> pb::Agent;
    get_agent(pb::GetAgentRequest) -> pb::Agent;
    list_agents(pb::ListAgentsRequest) -> pb::ListAgentsResponse;
    set_agent_state(pb::SetAgentStateRequest) -> pb::Agent;
    set_next_agent_state(pb::SetNextAgentStateRequest) -> pb::Agent;
    create_queue(pb::CreateQueueRequest) -> pb::Queue;
    update_queue(pb::UpdateQueueRequest) -> pb::Queue;
    get_queue(pb::GetQueueRequest) -> pb::Queue;
    list_queues(pb::ListQueuesRequest) -> pb::ListQueuesResponse;
    set_queue_members(pb::SetQueueMembersRequest) -> pb::Queue;
    get_queue_status(pb::GetQueueStatusRequest) -> pb::QueueStatus;
    delete_queue(pb::DeleteQueueRequest) -> pb::DeleteQueueResponse;
    delete_agent(pb::DeleteAgentRequest) -> pb::DeleteAgentResponse;
    get_queue_position(pb::GetQueuePositionRequest) -> pb::QueuePosition;
    list_queued_conversations(pb::ListQueuedConversationsRequest) -> pb::ListQueuedConversationsResponse;
    transfer_to_queue(pb::TransferToQueueRequest) -> pb::TransferResponse;
    transfer_to_agent(pb::TransferToAgentRequest) -> pb::TransferResponse;
    invite_to_conference(pb::InviteToConferenceRequest) -> pb::Conference;
    accept_conference(pb::AcceptConferenceRequest) -> pb::Conference;
    decline_conference(pb::DeclineConferenceRequest) -> pb::Conference;
    end_conference(pb::EndConferenceRequest) -> pb::Conference;
    accept_offer(pb::AcceptOfferRequest) -> pb::Assignment;
    decline_offer(pb::DeclineOfferRequest) -> pb::DeclineOfferResponse;
    list_offers(pb::ListOffersRequest) -> pb::ListOffersResponse;
    pick_conversation(pb::PickConversationRequest) -> pb::Assignment;
    assign_conversation(pb::AssignConversationRequest) -> pb::Assignment;
    submit_wrap_up(pb::SubmitWrapUpRequest) -> pb::WrapUp;
    list_wrap_up_codes(pb::ListWrapUpCodesRequest) -> pb::ListWrapUpCodesResponse;
    set_wrap_up_codes(pb::SetWrapUpCodesRequest) -> pb::ListWrapUpCodesResponse;
    get_routing_settings(pb::GetRoutingSettingsRequest) -> pb::RoutingSettings;
    update_routing_settings(pb::RoutingSettings) -> pb::RoutingSettings;
}

pub use privacy::DataSubjectGrpc;
