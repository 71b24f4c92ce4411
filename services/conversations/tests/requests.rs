//! Requests and contacts (CNV-1, CNV-7, CNV-15) with roles and tenancy.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::Harness;
use livedesk_auth::Role;
use livedesk_proto::common::v1::PageRequest;
use livedesk_proto::conversations::v1 as pb;
use livedesk_testkit::authed;

fn get(id: &str) -> pb::GetRequestRequest {
    pb::GetRequestRequest { id: id.into() }
}

// spec: CNV-1
// spec: TEN-2
// spec: TEN-3
#[tokio::test]
async fn a_request_groups_conversations_and_only_its_customer_and_staff_see_it() {
    let h = Harness::start().await;
    // a9 serves the conversation's queue (TEN-3).
    h.serve(&["a9"]).await;
    let c = h.active_chat("v1", "a1").await;
    let mut client = h.client().await;
    let own = client
        .get_request(authed(&h.token("v1", Role::Visitor), get(&c.request_id)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.status, pb::RequestStatus::Open as i32);
    assert_eq!(own.priority, pb::Priority::Low as i32, "LOW by default");
    assert_eq!(own.conversation_ids, vec![c.id.clone()]);
    assert!(
        client
            .get_request(authed(&h.token("a9", Role::Agent), get(&c.request_id)))
            .await
            .is_ok()
    );
    for token in [
        h.token("v2", Role::Visitor),
        h.env
            .token(livedesk_testkit::new_org(), "sup", Role::Supervisor),
    ] {
        let err = client
            .get_request(authed(&token, get(&c.request_id)))
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::NotFound);
    }
    assert_eq!(
        client
            .get_request(authed(&h.token("a1", Role::Agent), get("x")))
            .await
            .unwrap_err()
            .code(),
        tonic::Code::InvalidArgument
    );
}

// spec: CNV-1
// spec: TEN-4
#[tokio::test]
async fn staff_update_status_priority_reason_and_tags() {
    let h = Harness::start().await;
    let c = h.active_chat("v1", "a1").await;
    let mut client = h.client().await;
    let agent = h.token("a1", Role::Agent);
    let update = pb::UpdateRequestRequest {
        id: c.request_id.clone(),
        status: pb::RequestStatus::Pending as i32,
        priority: pb::Priority::High as i32,
        contact_reason: "refund".into(),
        tags: vec!["billing".into(), "Billing".into()],
    };
    let r = client
        .update_request(authed(&agent, update.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (
            r.status,
            r.priority,
            r.contact_reason.as_str(),
            r.tags.clone()
        ),
        (
            pb::RequestStatus::Pending as i32,
            pb::Priority::High as i32,
            "refund",
            vec!["billing".to_string()]
        )
    );
    // Unspecified fields keep their value.
    let r = client
        .update_request(authed(
            &agent,
            pb::UpdateRequestRequest {
                id: c.request_id.clone(),
                priority: pb::Priority::Medium as i32,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.priority, pb::Priority::Medium as i32);
    assert_eq!(r.status, pb::RequestStatus::Pending as i32);
    assert_eq!(r.tags, ["billing"]);

    let bad = pb::UpdateRequestRequest {
        priority: 9,
        status: 7,
        ..update.clone()
    };
    let err = client
        .update_request(authed(&agent, bad))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    for (token, code) in [
        (h.token("v1", Role::Visitor), tonic::Code::PermissionDenied),
        (
            h.env.token(livedesk_testkit::new_org(), "a1", Role::Agent),
            tonic::Code::NotFound,
        ),
    ] {
        let err = client
            .update_request(authed(&token, update.clone()))
            .await
            .unwrap_err();
        assert_eq!(err.code(), code);
    }
    let r = client
        .get_request(authed(&agent, get(&c.request_id)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.priority, pb::Priority::Medium as i32, "nothing changed");
}

// spec: CNV-7
#[tokio::test]
async fn assignment_to_self_or_another_agent_shows_initials() {
    let h = Harness::start().await;
    h.serve(&["alice.smith"]).await;
    let c = h.active_chat("v1", "a1").await;
    // a2 is known by the org's conversations as "Bob Martin".
    let other = crate::common::conversation(&h.start_chat("v2", "hi", "").await.unwrap());
    h.assign(&other.id, "a2", "Bob Martin").await;
    let mut client = h.client().await;
    let agent = h.token("alice.smith", Role::Agent);
    let assign = |assignee: &str, initials: &str| pb::AssignRequestRequest {
        id: c.request_id.clone(),
        assignee_id: assignee.into(),
        assignee_initials: initials.into(),
    };
    let me = client
        .assign_request(authed(&agent, assign("", "")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (me.assignee_id.as_str(), me.assignee_initials.as_str()),
        ("alice.smith", "AS")
    );
    let event: pb::RequestAssigned = h.event(&c.request_id).await;
    assert_eq!(event.assignee_id, "alice.smith");
    let bob = client
        .assign_request(authed(&agent, assign("a2", "")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (bob.assignee_id.as_str(), bob.assignee_initials.as_str()),
        ("a2", "BM")
    );
    let given = client
        .assign_request(authed(&agent, assign("a3", "xy")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(given.assignee_initials, "XY");

    let err = client
        .assign_request(authed(&agent, assign("a3", "x.y")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    for (token, code) in [
        (h.token("v1", Role::Visitor), tonic::Code::PermissionDenied),
        (
            h.env.token(livedesk_testkit::new_org(), "a1", Role::Agent),
            tonic::Code::NotFound,
        ),
    ] {
        let err = client
            .assign_request(authed(&token, assign("", "")))
            .await
            .unwrap_err();
        assert_eq!(err.code(), code);
    }
    let r = client
        .get_request(authed(&agent, get(&c.request_id)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.assignee_id, "a3");
}

// spec: CNV-15
// spec: TEN-3
#[tokio::test]
async fn requests_list_by_status_assignee_tag_priority_with_a_cursor() {
    let h = Harness::start().await;
    h.serve(&["a1"]).await;
    let agent = h.token("a1", Role::Agent);
    let mut client = h.client().await;
    let mut ids = Vec::new();
    for i in 0..4 {
        let c =
            crate::common::conversation(&h.start_chat(&format!("v{i}"), "hi", "").await.unwrap());
        ids.push(c.request_id);
    }
    client
        .update_request(authed(
            &agent,
            pb::UpdateRequestRequest {
                id: ids[0].clone(),
                status: pb::RequestStatus::Pending as i32,
                priority: pb::Priority::High as i32,
                tags: vec!["vip".into()],
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    client
        .assign_request(authed(
            &agent,
            pb::AssignRequestRequest {
                id: ids[1].clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    let list = |f: pb::ListRequestsRequest, token: String| {
        let mut client = client.clone();
        async move {
            client
                .list_requests(authed(&token, f))
                .await
                .unwrap()
                .into_inner()
        }
    };
    let only =
        |r: pb::ListRequestsResponse| r.requests.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let by = |f: pb::ListRequestsRequest| list(f, agent.clone());
    assert_eq!(
        only(
            by(pb::ListRequestsRequest {
                status: pb::RequestStatus::Pending as i32,
                ..Default::default()
            })
            .await
        ),
        [ids[0].clone()]
    );
    assert_eq!(
        only(
            by(pb::ListRequestsRequest {
                priority: pb::Priority::High as i32,
                ..Default::default()
            })
            .await
        ),
        [ids[0].clone()]
    );
    assert_eq!(
        only(
            by(pb::ListRequestsRequest {
                tag: "VIP".into(),
                ..Default::default()
            })
            .await
        ),
        [ids[0].clone()]
    );
    assert_eq!(
        only(
            by(pb::ListRequestsRequest {
                assignee_id: "a1".into(),
                ..Default::default()
            })
            .await
        ),
        [ids[1].clone()]
    );
    // Pages of 3 then 1, newest first, no duplicates.
    let first = by(pb::ListRequestsRequest {
        page: Some(PageRequest {
            page_size: 3,
            page_token: String::new(),
        }),
        ..Default::default()
    })
    .await;
    let token = first.page.clone().unwrap().next_page_token;
    assert!(!token.is_empty());
    let second = by(pb::ListRequestsRequest {
        page: Some(PageRequest {
            page_size: 3,
            page_token: token,
        }),
        ..Default::default()
    })
    .await;
    let mut all = only(first);
    all.extend(only(second));
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(all, expected);
    // Visitors list only their own; another org sees nothing.
    assert_eq!(
        only(list(Default::default(), h.token("v2", Role::Visitor)).await),
        [ids[2].clone()]
    );
    let stranger = h
        .env
        .token(livedesk_testkit::new_org(), "sup", Role::Supervisor);
    assert!(only(list(Default::default(), stranger).await).is_empty());
    let err = client
        .list_requests(authed(
            &agent,
            pb::ListRequestsRequest {
                priority: 8,
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
}

// spec: CNV-7
// spec: CNV-9
// spec: TEN-2
// spec: TEN-3
#[tokio::test]
async fn contacts_are_created_searched_masked_and_attached() {
    let h = Harness::start().await;
    let c = h.active_chat("v1", "a1").await;
    let mut client = h.client().await;
    let agent = h.token("a1", Role::Agent);
    let create = |name: &str, email: &str, phone: &str| pb::CreateContactRequest {
        name: name.into(),
        email: email.into(),
        phone: phone.into(),
    };
    let melissa = client
        .create_contact(authed(
            &agent,
            create("Melissa Jones", "Melissa@Gmail.com", "+1 (123) 456 7890"),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(melissa.email, "melissa@gmail.com");
    client
        .create_contact(authed(&agent, create("50% Off Shop", "", "")))
        .await
        .unwrap();
    client
        .create_contact(authed(&agent, create("Bob", "bob@example.org", "")))
        .await
        .unwrap();
    for bad in [
        create("", "", ""),
        create("X", "not-an-email", ""),
        create("X", "", "12"),
    ] {
        let err = client
            .create_contact(authed(&agent, bad))
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
    }
    let err = client
        .create_contact(authed(&h.token("v1", Role::Visitor), create("V", "", "")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::PermissionDenied);
    assert_eq!(h.count("SELECT count(*) AS n FROM contacts").await, 3);

    let search = |q: &str, token: &str| {
        let mut client = client.clone();
        let req = pb::SearchContactsRequest {
            query: q.into(),
            page: None,
        };
        let token = token.to_owned();
        async move {
            client
                .search_contacts(authed(&token, req))
                .await
                .map(|r| r.into_inner().contacts)
        }
    };
    let by_name = search("melis", &agent).await.unwrap();
    assert_eq!(by_name.len(), 1);
    assert_eq!(by_name[0].email, "m******@gmail.com", "masked for staff");
    assert_eq!(by_name[0].phone, "**********7890");
    assert_eq!(search("GMAIL.COM", &agent).await.unwrap().len(), 1);
    assert_eq!(search("456 78", &agent).await.unwrap()[0].id, melissa.id);
    let literal = search("50%", &agent).await.unwrap();
    assert_eq!(literal.len(), 1, "% is matched literally");
    assert!(
        search("_", &agent).await.unwrap().is_empty(),
        "_ is matched literally"
    );
    assert_eq!(
        search("x", &h.token("v1", Role::Visitor))
            .await
            .unwrap_err()
            .code(),
        tonic::Code::PermissionDenied
    );
    let stranger = h.env.token(livedesk_testkit::new_org(), "a1", Role::Agent);
    assert!(search("melissa", &stranger).await.unwrap().is_empty());

    let attach = pb::AttachContactRequest {
        request_id: c.request_id.clone(),
        contact_id: melissa.id.clone(),
    };
    let err = client
        .attach_contact(authed(&stranger, attach.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);
    let err = client
        .attach_contact(authed(&h.token("v1", Role::Visitor), attach.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::PermissionDenied);
    let r = client
        .attach_contact(authed(&agent, attach))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.contact.as_ref().unwrap().id, melissa.id);
    assert_eq!(r.contact.unwrap().email, "m******@gmail.com");
    let own = client
        .get_request(authed(&h.token("v1", Role::Visitor), get(&c.request_id)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        own.contact.unwrap().email,
        "melissa@gmail.com",
        "the customer sees it in clear"
    );
}
