//! Widget state and IsOpen end to end (SCH-2, SCH-3, SCH-5, SCH-7, TEN-1).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{World, at, nowhere, office, scheduling_env};
use livedesk_auth::Role;
use livedesk_platform::defaults::{default_offline_form_id, default_schedule_id};
use livedesk_proto::common::v1::Channel;
use livedesk_proto::scheduling::v1 as pb;
use livedesk_testkit::{authed, eventually};
use uuid::Uuid;

fn widget(queue: Uuid, channel: Channel) -> pb::GetWidgetStateRequest {
    pb::GetWidgetStateRequest {
        queue_id: queue.to_string(),
        channel: channel as i32,
    }
}

/// A schedule closed today and tomorrow (UTC), so "now" is closed however
/// close to midnight the test runs.
fn closed_now() -> pb::Schedule {
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let exceptions = [today, today.tomorrow().unwrap()]
        .iter()
        .map(|d| pb::DateException {
            date: d.to_string(),
            closed: true,
            hours: vec![],
            name: "Closed".into(),
        })
        .collect();
    pb::Schedule {
        name: "Closed".into(),
        time_zone: "UTC".into(),
        always_open: true,
        exceptions,
        ..Default::default()
    }
}

async fn assign_new(w: &World, queue: Uuid, schedule: pb::Schedule) -> String {
    let mut c = w.client().await;
    let s = c
        .create_schedule(w.admin(pb::CreateScheduleRequest {
            schedule: Some(schedule),
            client_request_id: String::new(),
        }))
        .await
        .unwrap()
        .into_inner();
    c.assign_schedule(w.admin(pb::AssignScheduleRequest {
        queue_id: queue.to_string(),
        schedule_id: s.id.clone(),
    }))
    .await
    .unwrap();
    s.id
}

// spec: SCH-3
// spec: SCH-7
// spec: TEN-1
#[tokio::test]
async fn a_new_orgs_queue_is_open_and_offers_chat_when_staffed() {
    let w = World::new().await;
    w.set_staffed(true).await;
    let mut c = w.client().await;
    let queue = w.queue().await;
    let open = c
        .is_open(authed(
            &w.token(Role::Service),
            pb::IsOpenRequest {
                queue_id: queue.to_string(),
                at: None,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(open.open, "an org with no configuration is open");
    assert_eq!(open.schedule_id, default_schedule_id(w.org).to_string());
    // The default queue (empty id) too.
    assert!(
        c.is_open(authed(
            &w.token(Role::Visitor),
            pb::IsOpenRequest::default()
        ))
        .await
        .unwrap()
        .into_inner()
        .open
    );
    for role in [Role::Service, Role::Visitor, Role::Agent] {
        let state = c
            .get_widget_state(authed(&w.token(role), widget(queue, Channel::WebChat)))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(state.mode, pb::WidgetMode::Chat as i32, "{role}");
        assert!(state.open && state.staffed);
    }
}

// spec: SCH-3
// spec: TEN-1
#[tokio::test]
async fn an_unstaffed_queue_offers_the_default_offline_form() {
    let w = World::new().await;
    w.set_staffed(false).await;
    let queue = w.queue().await;
    let mut c = w.client().await;
    let state = c
        .get_widget_state(authed(
            &w.token(Role::Visitor),
            widget(queue, Channel::WebChat),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(state.mode, pb::WidgetMode::OfflineForm as i32);
    assert!(state.open && !state.staffed);
    assert_eq!(state.form_id, default_offline_form_id(w.org).to_string());
}

// spec: SCH-3
#[tokio::test]
async fn a_closed_queue_offers_the_form_on_web_and_out_of_hours_text_on_messaging() {
    let w = World::new().await;
    w.set_staffed(true).await;
    let queue = w.queue().await;
    assign_new(&w, queue, closed_now()).await;
    let mut c = w.client().await;
    let web = c
        .get_widget_state(authed(
            &w.token(Role::Service),
            widget(queue, Channel::WebChat),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(web.mode, pb::WidgetMode::OfflineForm as i32);
    assert_eq!(web.form_id, default_offline_form_id(w.org).to_string());
    assert!(!web.open);
    for channel in [
        Channel::Messenger,
        Channel::Whatsapp,
        Channel::Instagram,
        Channel::Email,
    ] {
        let m = c
            .get_widget_state(authed(&w.token(Role::Service), widget(queue, channel)))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            m.mode,
            pb::WidgetMode::MessagingOutOfHours as i32,
            "{channel:?} is never disabled"
        );
        assert_eq!(
            m.out_of_hours_message,
            livedesk_scheduling::domain::DEFAULT_OUT_OF_HOURS
        );
    }
    // The org's own text once set.
    c.update_settings(w.admin(pb::SchedulingSettings {
        out_of_hours_message: "Back on Monday at 9.".into(),
        closing_soon_message: String::new(),
        notify_email: "support@example.com".into(),
    }))
    .await
    .unwrap();
    let m = c
        .get_widget_state(authed(
            &w.token(Role::Service),
            widget(queue, Channel::Whatsapp),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(m.out_of_hours_message, "Back on Monday at 9.");
    // Another queue of the same org is still open.
    let other = c
        .get_widget_state(authed(
            &w.token(Role::Service),
            widget(Uuid::now_v7(), Channel::Whatsapp),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(other.mode, pb::WidgetMode::Chat as i32);
}

// spec: SCH-5
// spec: SCH-2
#[tokio::test]
async fn the_answer_changes_at_the_closing_boundary() {
    let w = World::new().await;
    w.set_staffed(true).await;
    let queue = w.queue().await;
    assign_new(&w, queue, office("Europe/Paris")).await;
    let mut c = w.client().await;
    let ask = |t: prost_types::Timestamp| {
        authed(
            &w.token(Role::Service),
            pb::IsOpenRequest {
                queue_id: queue.to_string(),
                at: Some(t),
            },
        )
    };
    let before = c
        .is_open(ask(at("2026-03-06T17:59:59[Europe/Paris]")))
        .await
        .unwrap()
        .into_inner();
    assert!(before.open);
    assert_eq!(
        before.current_interval_end,
        Some(at("2026-03-06T18:00[Europe/Paris]"))
    );
    let after = c
        .is_open(ask(at("2026-03-06T18:00[Europe/Paris]")))
        .await
        .unwrap()
        .into_inner();
    assert!(
        !after.open,
        "a chat started at closing time is not routed to this queue"
    );
    assert_eq!(
        after.next_opening,
        Some(at("2026-03-09T09:00[Europe/Paris]"))
    );

    // And live: the widget of an open queue turns to the form as soon as
    // the queue's schedule closes it (this replica invalidates its cache).
    let live = w.queue().await;
    let chat = c
        .get_widget_state(authed(
            &w.token(Role::Visitor),
            widget(live, Channel::WebChat),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(chat.mode, pb::WidgetMode::Chat as i32);
    assign_new(&w, live, closed_now()).await;
    let closed = c
        .get_widget_state(authed(
            &w.token(Role::Visitor),
            widget(live, Channel::WebChat),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(closed.mode, pb::WidgetMode::OfflineForm as i32);
    assert!(
        !c.is_open(authed(
            &w.token(Role::Service),
            pb::IsOpenRequest {
                queue_id: live.to_string(),
                at: None
            }
        ))
        .await
        .unwrap()
        .into_inner()
        .open
    );
}

// spec: SCH-2
#[tokio::test]
async fn another_replica_converges_within_the_cache_ttl() {
    let w = World::new().await;
    let other = livedesk_testkit::spawn::<livedesk_scheduling::App>(&scheduling_env(
        &w.env,
        &w.routing.url(),
        300,
    ))
    .await
    .unwrap();
    let mut replica =
        livedesk_proto::scheduling::v1::scheduling_service_client::SchedulingServiceClient::new(
            other.channel().await.unwrap(),
        );
    let queue = Uuid::now_v7();
    let ask = || {
        authed(
            &w.token(Role::Service),
            pb::IsOpenRequest {
                queue_id: queue.to_string(),
                at: None,
            },
        )
    };
    assert!(
        replica.is_open(ask()).await.unwrap().into_inner().open,
        "cached: open"
    );
    assign_new(&w, queue, closed_now()).await;
    eventually(5, "the other replica sees the new schedule", || {
        let mut r = replica.clone();
        let req = ask();
        async move {
            r.is_open(req)
                .await
                .ok()
                .filter(|o| !o.get_ref().open)
                .map(|_| ())
        }
    })
    .await
    .unwrap();
}

// spec: SCH-3
#[tokio::test]
async fn routing_unreachable_is_unavailable_not_a_guess_of_unstaffed() {
    let w = World::new().await;
    w.set_staffed(true).await;
    let queue = w.queue().await;
    // A scheduling replica whose routing peer answers nowhere: a port that
    // was free a moment ago and nothing listens on.
    let other = livedesk_testkit::spawn::<livedesk_scheduling::App>(&scheduling_env(
        &w.env,
        &nowhere(),
        5000,
    ))
    .await
    .unwrap();
    let mut c =
        pb::scheduling_service_client::SchedulingServiceClient::new(other.channel().await.unwrap());
    let err = c
        .get_widget_state(authed(
            &w.token(Role::Visitor),
            widget(queue, Channel::WebChat),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unavailable, "{err:?}");
    // The same question to the replica whose routing answers: chat.
    let state = w
        .client()
        .await
        .get_widget_state(authed(
            &w.token(Role::Visitor),
            widget(queue, Channel::WebChat),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(state.mode, pb::WidgetMode::Chat as i32);
}
