//! Schedule CRUD, validation, tenancy and roles (SCH-1, SCH-7, TEN-2..5).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{World, at, office};
use livedesk_auth::Role;
use livedesk_platform::defaults::default_schedule_id;
use livedesk_proto::scheduling::v1 as pb;
use livedesk_testkit::{authed, new_org};
use tonic::Code;
use uuid::Uuid;

fn create(s: pb::Schedule) -> pb::CreateScheduleRequest {
    pb::CreateScheduleRequest {
        schedule: Some(s),
        client_request_id: String::new(),
    }
}

// spec: SCH-1
// spec: SCH-7
#[tokio::test]
async fn a_lunch_break_and_a_holiday_are_closed() {
    let w = World::new().await;
    let mut c = w.client().await;
    let mut s = office("Europe/Paris");
    s.exceptions.push(pb::DateException {
        date: "2026-12-25".into(),
        closed: true,
        hours: vec![],
        name: "Christmas".into(),
    });
    let s = c
        .create_schedule(w.admin(create(s)))
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
    let ask = |local: &str| {
        authed(
            &w.token(Role::Service),
            pb::IsOpenRequest {
                queue_id: queue.to_string(),
                at: Some(at(local)),
            },
        )
    };
    let morning = c
        .is_open(ask("2026-03-02T11:00[Europe/Paris]"))
        .await
        .unwrap()
        .into_inner();
    assert!(morning.open);
    assert_eq!(morning.schedule_id, s.id);
    let lunch = c
        .is_open(ask("2026-03-02T12:30[Europe/Paris]"))
        .await
        .unwrap()
        .into_inner();
    assert!(!lunch.open, "lunch break");
    assert_eq!(
        lunch.next_opening,
        Some(at("2026-03-02T13:00[Europe/Paris]"))
    );
    let christmas = c
        .is_open(ask("2026-12-25T10:00[Europe/Paris]"))
        .await
        .unwrap()
        .into_inner();
    assert!(!christmas.open, "holiday");
    assert_eq!(
        christmas.next_opening,
        Some(at("2026-12-28T09:00[Europe/Paris]"))
    );
    // The schedule round-trips as stored (jsonb intervals and exceptions).
    let got = c
        .get_schedule(authed(
            &w.token(Role::Agent),
            pb::GetScheduleRequest { id: s.id.clone() },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, s);
    let list = c
        .list_schedules(authed(
            &w.token(Role::Supervisor),
            pb::ListSchedulesRequest {},
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.schedules.len(), 2, "the default and ours");
    assert!(list.schedules[0].is_default && list.schedules[0].always_open);
}

// spec: TEN-4
#[tokio::test]
async fn bad_schedules_are_refused_field_by_field_and_nothing_is_stored() {
    let w = World::new().await;
    let mut c = w.client().await;
    let mut s = office("Europe/Pariss");
    s.intervals.push(pb::Interval {
        weekday: 8,
        start_minute: 1500,
        end_minute: 0,
    });
    s.exceptions.push(pb::DateException {
        date: "25/12/2026".into(),
        closed: true,
        hours: vec![],
        name: String::new(),
    });
    let err = c.create_schedule(w.admin(create(s))).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    for field in [
        "schedule.time_zone",
        "schedule.intervals[10].weekday",
        "schedule.intervals[10].start_minute",
        "schedule.intervals[10].end_minute",
        "schedule.exceptions[0].date",
    ] {
        assert!(
            err.message().contains(field),
            "{field} in {}",
            err.message()
        );
    }
    let list = c
        .list_schedules(w.admin(pb::ListSchedulesRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.schedules.len(), 1, "only the default: nothing stored");
    // Updates are validated the same way and change nothing.
    let ok = c
        .create_schedule(w.admin(create(office("Europe/Paris"))))
        .await
        .unwrap()
        .into_inner();
    let mut bad = ok.clone();
    bad.time_zone = "Not/AZone".into();
    assert_eq!(
        c.update_schedule(w.admin(pb::UpdateScheduleRequest {
            schedule: Some(bad)
        }))
        .await
        .unwrap_err()
        .code(),
        Code::InvalidArgument
    );
    let got = c
        .get_schedule(w.admin(pb::GetScheduleRequest { id: ok.id.clone() }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.time_zone, "Europe/Paris");
}

// spec: TEN-2
// spec: TEN-4
#[tokio::test]
async fn another_orgs_schedule_is_not_found() {
    let w = World::new().await;
    let mut c = w.client().await;
    let s = c
        .create_schedule(w.admin(create(office("UTC"))))
        .await
        .unwrap()
        .into_inner();
    let token = w.env.token(new_org(), "admin-2", Role::Admin);
    let get = c
        .get_schedule(authed(&token, pb::GetScheduleRequest { id: s.id.clone() }))
        .await
        .unwrap_err();
    assert_eq!(get.code(), Code::NotFound);
    let mut edit = s.clone();
    edit.name = "Mine now".into();
    assert_eq!(
        c.update_schedule(authed(
            &token,
            pb::UpdateScheduleRequest {
                schedule: Some(edit)
            }
        ))
        .await
        .unwrap_err()
        .code(),
        Code::NotFound
    );
    assert_eq!(
        c.delete_schedule(authed(
            &token,
            pb::DeleteScheduleRequest { id: s.id.clone() }
        ))
        .await
        .unwrap_err()
        .code(),
        Code::NotFound
    );
    let assign = pb::AssignScheduleRequest {
        queue_id: Uuid::now_v7().to_string(),
        schedule_id: s.id.clone(),
    };
    assert_eq!(
        c.assign_schedule(authed(&token, assign))
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    // Untouched for its owner.
    assert_eq!(
        c.get_schedule(w.admin(pb::GetScheduleRequest { id: s.id }))
            .await
            .unwrap()
            .into_inner()
            .name,
        "Office"
    );
}

// spec: TEN-3
#[tokio::test]
async fn only_admins_configure_schedules() {
    let w = World::new().await;
    let mut c = w.client().await;
    for role in [Role::Agent, Role::Supervisor, Role::Visitor] {
        let err = c
            .create_schedule(authed(&w.token(role), create(office("UTC"))))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{role}");
    }
    let s = c
        .create_schedule(w.admin(create(office("UTC"))))
        .await
        .unwrap()
        .into_inner();
    let assign = pb::AssignScheduleRequest {
        queue_id: Uuid::now_v7().to_string(),
        schedule_id: s.id.clone(),
    };
    assert_eq!(
        c.assign_schedule(authed(&w.token(Role::Agent), assign))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    let del = pb::DeleteScheduleRequest { id: s.id.clone() };
    assert_eq!(
        c.delete_schedule(authed(&w.token(Role::Supervisor), del))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    assert_eq!(
        c.list_schedules(authed(&w.token(Role::Visitor), pb::ListSchedulesRequest {}))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    let settings = pb::SchedulingSettings::default();
    assert_eq!(
        c.update_settings(authed(&w.token(Role::Agent), settings))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
}

// spec: SCH-1
// spec: SCH-7
#[tokio::test]
async fn an_assigned_schedule_cannot_be_deleted_until_reassigned() {
    let w = World::new().await;
    let mut c = w.client().await;
    let s = c
        .create_schedule(w.admin(create(office("UTC"))))
        .await
        .unwrap()
        .into_inner();
    let queue = Uuid::now_v7().to_string();
    c.assign_schedule(w.admin(pb::AssignScheduleRequest {
        queue_id: queue.clone(),
        schedule_id: s.id.clone(),
    }))
    .await
    .unwrap();
    let err = c
        .delete_schedule(w.admin(pb::DeleteScheduleRequest { id: s.id.clone() }))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let default_id = default_schedule_id(w.org).to_string();
    assert_eq!(
        c.delete_schedule(w.admin(pb::DeleteScheduleRequest { id: default_id }))
            .await
            .unwrap_err()
            .code(),
        Code::FailedPrecondition
    );
    // Back to the default (empty schedule id), then the delete succeeds.
    c.assign_schedule(w.admin(pb::AssignScheduleRequest {
        queue_id: queue.clone(),
        schedule_id: String::new(),
    }))
    .await
    .unwrap();
    c.delete_schedule(w.admin(pb::DeleteScheduleRequest { id: s.id.clone() }))
        .await
        .unwrap();
    assert_eq!(
        c.get_schedule(w.admin(pb::GetScheduleRequest { id: s.id }))
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    let open = c
        .is_open(w.admin(pb::IsOpenRequest {
            queue_id: queue,
            at: None,
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(open.open, "the queue follows the default schedule again");
}

// spec: SCH-7
#[tokio::test]
async fn the_default_schedule_can_be_edited_and_governs_unassigned_queues() {
    let w = World::new().await;
    let mut c = w.client().await;
    let mut d = c
        .get_schedule(w.admin(pb::GetScheduleRequest {
            id: default_schedule_id(w.org).to_string(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(d.is_default && d.always_open);
    d.always_open = false;
    d.time_zone = "America/New_York".into();
    d.intervals = office("America/New_York").intervals;
    c.update_schedule(w.admin(pb::UpdateScheduleRequest { schedule: Some(d) }))
        .await
        .unwrap();
    let ask = pb::IsOpenRequest {
        queue_id: Uuid::now_v7().to_string(),
        at: Some(at("2026-11-01T10:00[America/New_York]")),
    };
    let sunday = c.is_open(w.admin(ask)).await.unwrap().into_inner();
    assert!(!sunday.open);
    assert_eq!(
        sunday.next_opening,
        Some(at("2026-11-02T09:00[America/New_York]"))
    );
}

// spec: TEN-5
#[tokio::test]
async fn a_retried_create_returns_the_first_schedule() {
    let w = World::new().await;
    let mut c = w.client().await;
    let req = || pb::CreateScheduleRequest {
        schedule: Some(office("UTC")),
        client_request_id: "req-1".into(),
    };
    let a = c
        .create_schedule(w.admin(req()))
        .await
        .unwrap()
        .into_inner();
    let b = c
        .create_schedule(w.admin(req()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(a.id, b.id);
    assert_eq!(
        c.list_schedules(w.admin(pb::ListSchedulesRequest {}))
            .await
            .unwrap()
            .into_inner()
            .schedules
            .len(),
        2
    );
}
