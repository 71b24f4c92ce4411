//! Queue closing-soon, closed and opened events (SCH-4).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::World;
use futures::StreamExt;
use livedesk_events::Subjects;
use livedesk_proto::EventType;
use livedesk_proto::events::v1::EventEnvelope;
use livedesk_proto::scheduling::v1 as pb;
use prost::Message;
use uuid::Uuid;

async fn next_event<E: EventType>(sub: &mut async_nats::Subscriber) -> (EventEnvelope, E) {
    let msg = tokio::time::timeout(std::time::Duration::from_secs(15), sub.next())
        .await
        .unwrap()
        .unwrap();
    let env = EventEnvelope::decode(msg.payload).unwrap();
    let event = E::decode(env.payload.as_slice()).unwrap();
    (env, event)
}

// spec: SCH-4
#[tokio::test]
async fn a_queue_closing_soon_then_closed_is_announced() {
    let w = World::new().await;
    let mut c = w.client().await;
    let subjects = Subjects::new(w.env.prefix.clone());
    let nats = w.env.nats().await.unwrap();
    let mut soon = nats
        .subscribe(subjects.event("scheduling", pb::QueueClosingSoon::TYPE))
        .await
        .unwrap();
    let mut closed = nats
        .subscribe(subjects.event("scheduling", pb::QueueClosed::TYPE))
        .await
        .unwrap();

    // Open today (local) until a few minutes from now; pick a zone where it
    // is not close to midnight so "a few minutes from now" is still today.
    let tz = if jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .hour()
        >= 20
    {
        "Etc/GMT+6"
    } else {
        "UTC"
    };
    let local = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::get(tz).unwrap());
    let end =
        u32::try_from(local.hour()).unwrap() * 60 + u32::try_from(local.minute()).unwrap() + 4;
    let today = pb::DateException {
        date: local.date().to_string(),
        closed: false,
        hours: vec![pb::Interval {
            weekday: 0,
            start_minute: 0,
            end_minute: end,
        }],
        name: "Short day".into(),
    };
    let schedule = pb::Schedule {
        name: "Short".into(),
        time_zone: tz.into(),
        exceptions: vec![today],
        closing_soon_minutes: 15,
        ..Default::default()
    };
    let s = c
        .create_schedule(w.admin(pb::CreateScheduleRequest {
            schedule: Some(schedule.clone()),
            client_request_id: String::new(),
        }))
        .await
        .unwrap()
        .into_inner();
    let queue = Uuid::now_v7();
    c.assign_schedule(w.admin(pb::AssignScheduleRequest {
        queue_id: queue.to_string(),
        schedule_id: s.id.clone(),
    }))
    .await
    .unwrap();

    let (env, event) = next_event::<pb::QueueClosingSoon>(&mut soon).await;
    assert_eq!(env.org_id, w.org.to_string());
    assert_eq!(event.queue_id, queue.to_string());
    assert_eq!(event.schedule_id, s.id);
    assert_eq!(
        event.message,
        livedesk_scheduling::domain::DEFAULT_CLOSING_SOON
    );
    assert!(event.closes_at.is_some());

    // The admin closes the day early: the sweep announces the close.
    let mut early = s.clone();
    early.exceptions[0] = pb::DateException {
        date: local.date().to_string(),
        closed: true,
        hours: vec![],
        name: "Closed".into(),
    };
    let tomorrow = pb::DateException {
        date: local.date().tomorrow().unwrap().to_string(),
        closed: true,
        hours: vec![],
        name: "Closed".into(),
    };
    early.exceptions.push(tomorrow);
    c.update_schedule(w.admin(pb::UpdateScheduleRequest {
        schedule: Some(early),
    }))
    .await
    .unwrap();
    let (_, event) = next_event::<pb::QueueClosed>(&mut closed).await;
    assert_eq!(event.queue_id, queue.to_string());
}
