//! `SchedulingService`: evaluation and widget state from the org cache,
//! settings; schedule CRUD lives in `schedules.rs`.
use livedesk_auth::principal;
use livedesk_platform::Runtime;
use livedesk_platform::errors::{FieldViolation, peer};
use livedesk_proto::common::v1::Channel;
use livedesk_proto::routing::v1::GetQueueStatusRequest;
use livedesk_proto::routing::v1::routing_service_client::RoutingServiceClient;
use livedesk_proto::scheduling::v1 as pb;
use livedesk_proto::scheduling::v1::scheduling_service_server::SchedulingService;
use sea_orm::DatabaseConnection;
use tonic::transport::Channel as GrpcChannel;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::convert;
use crate::cache::OrgCache;
use crate::domain::{ChannelKind, Settings, WidgetMode, decide, evaluate};
use crate::error::Error;
use crate::store::SettingsStore;

/// The gRPC service.
#[derive(Clone)]
pub struct SchedulingGrpc {
    pub db: DatabaseConnection,
    pub rt: Runtime,
    pub cache: OrgCache,
    pub outbox: livedesk_events::Outbox,
    pub routing: RoutingServiceClient<GrpcChannel>,
    /// Checks form submitters against blocks (BLK-3, BLK-9).
    pub blocking:
        livedesk_proto::blocking::v1::blocking_service_client::BlockingServiceClient<GrpcChannel>,
}

fn queue_of(org: Uuid, raw: &str) -> Result<Uuid, Error> {
    Ok(livedesk_platform::defaults::queue_or_default(org, raw)
        .map_err(|_| FieldViolation::new("queue_id", "must be a UUID"))?)
}

impl SchedulingGrpc {
    async fn is_open_impl(
        &self,
        req: Request<pb::IsOpenRequest>,
    ) -> Result<pb::IsOpenResponse, Error> {
        // Every role may ask: the widget backend, visitors, staff (SCH-2).
        let who = principal(&req)?;
        let body = req.get_ref();
        let queue = queue_of(who.org_id, &body.queue_id)?;
        let at = match &body.at {
            Some(t) => {
                convert::from_ts(t).ok_or_else(|| FieldViolation::new("at", "out of range"))?
            }
            None => jiff::Timestamp::now(),
        };
        let org = self.cache.get(who.org_id).await?;
        let schedule = org.schedule_for(queue);
        let e = evaluate(&schedule, at);
        Ok(pb::IsOpenResponse {
            open: e.open,
            current_interval_end: e.current_interval_end.map(convert::ts),
            next_opening: e.next_opening.map(convert::ts),
            schedule_id: schedule.id.to_string(),
        })
    }

    /// Whether a member of the queue is available (RTG-10). A routing
    /// replica going away is retried on another
    /// ([`livedesk_platform::peer::idempotent`]); routing unreachable
    /// altogether is UNAVAILABLE, never a guess: "unstaffed" would show a
    /// waiting customer the offline form during a routine rolling restart.
    async fn staffed(&self, org: Uuid, queue: Uuid) -> Result<bool, Error> {
        let status = livedesk_platform::peer::idempotent(|| async {
            let req = self.rt.peer_request(
                org,
                GetQueueStatusRequest {
                    queue_id: queue.to_string(),
                },
            )?;
            self.routing.clone().get_queue_status(req).await
        })
        .await
        .map_err(peer("routing"))?;
        Ok(status.into_inner().staffed)
    }

    async fn widget_impl(
        &self,
        req: Request<pb::GetWidgetStateRequest>,
    ) -> Result<pb::WidgetState, Error> {
        let who = principal(&req)?;
        let body = req.get_ref();
        let queue = queue_of(who.org_id, &body.queue_id)?;
        let kind = match Channel::try_from(body.channel) {
            Ok(Channel::WebChat) => ChannelKind::WebChat,
            Ok(Channel::Messenger | Channel::Whatsapp | Channel::Instagram | Channel::Email) => {
                ChannelKind::Messaging
            }
            _ => return Err(FieldViolation::new("channel", "required: a known channel").into()),
        };
        let org = self.cache.get(who.org_id).await?;
        let e = evaluate(&org.schedule_for(queue), jiff::Timestamp::now());
        // Staffing only matters for an open web chat; skip the call otherwise.
        let staffed =
            kind == ChannelKind::WebChat && e.open && self.staffed(who.org_id, queue).await?;
        let offline = org.enabled_form(queue, pb::FormKind::Offline);
        let contact = org.enabled_form(queue, pb::FormKind::Contact);
        let mode = decide(kind, e.open, staffed, offline, contact);
        let (mode, form_id) = match mode {
            WidgetMode::Chat => (pb::WidgetMode::Chat, None),
            WidgetMode::OfflineForm(f) => (pb::WidgetMode::OfflineForm, Some(f)),
            WidgetMode::ContactForm(f) => (pb::WidgetMode::ContactForm, Some(f)),
            WidgetMode::Hidden => (pb::WidgetMode::Hidden, None),
            WidgetMode::MessagingOutOfHours => (pb::WidgetMode::MessagingOutOfHours, None),
        };
        Ok(pb::WidgetState {
            mode: mode as i32,
            open: e.open,
            staffed,
            form_id: form_id.map(|f| f.to_string()).unwrap_or_default(),
            out_of_hours_message: if e.open {
                String::new()
            } else {
                org.settings.out_of_hours().to_owned()
            },
            next_opening: e.next_opening.map(convert::ts),
        })
    }

    async fn get_settings_impl(
        &self,
        req: Request<pb::GetSettingsRequest>,
    ) -> Result<pb::SchedulingSettings, Error> {
        let who = principal(&req)?;
        who.require_staff("read scheduling settings")?;
        Ok(convert::settings(
            &SettingsStore::get(&self.db, who.org_id).await?,
        ))
    }

    async fn update_settings_impl(
        &self,
        req: Request<pb::SchedulingSettings>,
    ) -> Result<pb::SchedulingSettings, Error> {
        let who = principal(&req)?;
        who.require_admin("change scheduling settings")?;
        let b = req.get_ref();
        let s = Settings::parse(
            &b.out_of_hours_message,
            &b.closing_soon_message,
            &b.notify_email,
        )?;
        SettingsStore::put(&self.db, who.org_id, &s).await?;
        self.cache.invalidate(who.org_id);
        Ok(convert::settings(&s))
    }
}

type Reply<T> = std::result::Result<Response<T>, Status>;

#[tonic::async_trait]
impl SchedulingService for SchedulingGrpc {
    async fn create_schedule(
        &self,
        req: Request<pb::CreateScheduleRequest>,
    ) -> Reply<pb::Schedule> {
        Ok(Response::new(self.create_schedule_impl(req).await?))
    }

    async fn update_schedule(
        &self,
        req: Request<pb::UpdateScheduleRequest>,
    ) -> Reply<pb::Schedule> {
        Ok(Response::new(self.update_schedule_impl(req).await?))
    }

    async fn get_schedule(&self, req: Request<pb::GetScheduleRequest>) -> Reply<pb::Schedule> {
        Ok(Response::new(self.get_schedule_impl(req).await?))
    }

    async fn list_schedules(
        &self,
        req: Request<pb::ListSchedulesRequest>,
    ) -> Reply<pb::ListSchedulesResponse> {
        Ok(Response::new(self.list_schedules_impl(req).await?))
    }

    async fn delete_schedule(
        &self,
        req: Request<pb::DeleteScheduleRequest>,
    ) -> Reply<pb::DeleteScheduleResponse> {
        Ok(Response::new(self.delete_schedule_impl(req).await?))
    }

    async fn assign_schedule(
        &self,
        req: Request<pb::AssignScheduleRequest>,
    ) -> Reply<pb::AssignScheduleResponse> {
        Ok(Response::new(self.assign_schedule_impl(req).await?))
    }

    async fn is_open(&self, req: Request<pb::IsOpenRequest>) -> Reply<pb::IsOpenResponse> {
        Ok(Response::new(self.is_open_impl(req).await?))
    }

    async fn get_widget_state(
        &self,
        req: Request<pb::GetWidgetStateRequest>,
    ) -> Reply<pb::WidgetState> {
        Ok(Response::new(self.widget_impl(req).await?))
    }

    async fn upsert_form(&self, req: Request<pb::UpsertFormRequest>) -> Reply<pb::Form> {
        Ok(Response::new(self.upsert_form_impl(req).await?))
    }

    async fn get_form(&self, req: Request<pb::GetFormRequest>) -> Reply<pb::Form> {
        Ok(Response::new(self.get_form_impl(req).await?))
    }

    async fn submit_form(&self, req: Request<pb::SubmitFormRequest>) -> Reply<pb::FormSubmission> {
        Ok(Response::new(self.submit_form_impl(req).await?))
    }

    async fn list_form_submissions(
        &self,
        req: Request<pb::ListFormSubmissionsRequest>,
    ) -> Reply<pb::ListFormSubmissionsResponse> {
        Ok(Response::new(self.list_submissions_impl(req).await?))
    }

    async fn get_settings(
        &self,
        req: Request<pb::GetSettingsRequest>,
    ) -> Reply<pb::SchedulingSettings> {
        Ok(Response::new(self.get_settings_impl(req).await?))
    }

    async fn update_settings(
        &self,
        req: Request<pb::SchedulingSettings>,
    ) -> Reply<pb::SchedulingSettings> {
        Ok(Response::new(self.update_settings_impl(req).await?))
    }
}
