//! Tags and their recommendation (CNV-11).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Harness, conversation};
use livedesk_auth::Role;
use livedesk_proto::conversations::v1 as pb;
use livedesk_testkit::authed;

fn tag(name: &str, category: &str, keywords: &[&str]) -> pb::UpsertTagRequest {
    pb::UpsertTagRequest {
        tag: Some(pb::Tag {
            id: String::new(),
            name: name.into(),
            category: category.into(),
            keywords: keywords.iter().map(|k| (*k).into()).collect(),
        }),
    }
}

fn recommend(id: &str) -> pb::RecommendTagsRequest {
    pb::RecommendTagsRequest {
        conversation_id: id.into(),
        limit: 3,
    }
}

async fn ranked(h: &Harness, id: &str) -> Vec<(String, f64)> {
    h.client()
        .await
        .recommend_tags(authed(&h.token("a1", Role::Agent), recommend(id)))
        .await
        .unwrap()
        .into_inner()
        .tags
        .into_iter()
        .map(|t| (t.tag.unwrap().name, t.score))
        .collect()
}

// spec: CNV-11
// spec: TEN-2
// spec: TEN-3
// spec: TEN-4
#[tokio::test]
async fn admins_define_tags_with_categories_and_keywords() {
    let h = Harness::start().await;
    let admin = h.token("adm", Role::Admin);
    let mut client = h.client().await;
    let billing = client
        .upsert_tag(authed(
            &admin,
            tag("Billing", "Finance", &["Invoice", "refund"]),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(billing.keywords, ["invoice", "refund"]);
    let same = client
        .upsert_tag(authed(&admin, tag("billing", "Money", &[])))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(same.id, billing.id, "the same name updates the tag");
    let delivery = client
        .upsert_tag(authed(&admin, tag("Delivery", "Logistics", &["parcel"])))
        .await
        .unwrap()
        .into_inner();
    let mut rename = tag("billing", "", &[]);
    rename.tag.as_mut().unwrap().id = delivery.id.clone();
    assert_eq!(
        client
            .upsert_tag(authed(&admin, rename))
            .await
            .unwrap_err()
            .code(),
        tonic::Code::AlreadyExists
    );
    for bad in [
        tag("", "x", &[]),
        tag(&"x".repeat(51), "", &[]),
        tag("a\nb", "", &[]),
    ] {
        assert_eq!(
            client
                .upsert_tag(authed(&admin, bad))
                .await
                .unwrap_err()
                .code(),
            tonic::Code::InvalidArgument
        );
    }
    assert_eq!(
        client
            .upsert_tag(authed(&h.token("sup", Role::Supervisor), tag("x", "", &[])))
            .await
            .unwrap_err()
            .code(),
        tonic::Code::PermissionDenied
    );
    let mut foreign = tag("Stolen", "", &[]);
    foreign.tag.as_mut().unwrap().id = delivery.id.clone();
    let stranger = h.env.token(livedesk_testkit::new_org(), "adm", Role::Admin);
    assert_eq!(
        client
            .upsert_tag(authed(&stranger, foreign))
            .await
            .unwrap_err()
            .code(),
        tonic::Code::NotFound
    );
    let list = client
        .list_tags(authed(&h.token("a1", Role::Agent), pb::ListTagsRequest {}))
        .await
        .unwrap()
        .into_inner()
        .tags;
    assert_eq!(
        list.iter()
            .map(|t| (t.category.as_str(), t.name.as_str()))
            .collect::<Vec<_>>(),
        [("Logistics", "Delivery"), ("Money", "billing")]
    );
    assert!(
        client
            .list_tags(authed(&stranger, pb::ListTagsRequest {}))
            .await
            .unwrap()
            .into_inner()
            .tags
            .is_empty()
    );
    assert_eq!(
        client
            .list_tags(authed(
                &h.token("v1", Role::Visitor),
                pb::ListTagsRequest {}
            ))
            .await
            .unwrap_err()
            .code(),
        tonic::Code::PermissionDenied
    );
}

// spec: CNV-11
#[tokio::test]
async fn keywords_rank_tags_first_then_the_orgs_own_tagging_takes_over() {
    let h = Harness::start().await;
    h.serve(&["a1"]).await;
    let admin = h.token("adm", Role::Admin);
    let mut client = h.client().await;
    for t in [
        tag("billing", "Finance", &["card", "invoice"]),
        tag("delivery", "Logistics", &["parcel"]),
        tag("fraud", "Risk", &[]),
    ] {
        client.upsert_tag(authed(&admin, t)).await.unwrap();
    }
    let probe = conversation(
        &h.start_chat("probe", "my card was stolen, unknown payment", "")
            .await
            .unwrap(),
    );
    let cold = ranked(&h, &probe.id).await;
    assert_eq!(cold[0].0, "billing", "cold start: the keyword rule");

    // This org's agents tag such conversations "fraud".
    let agent = h.token("a1", Role::Agent);
    for i in 0..12 {
        let (text, tags) = if i % 2 == 0 {
            (
                "someone used my card, stolen, unknown payment",
                vec!["fraud".to_string()],
            )
        } else {
            (
                "the invoice has a wrong vat number",
                vec!["billing".to_string()],
            )
        };
        let c = conversation(&h.start_chat(&format!("hist{i}"), text, "").await.unwrap());
        h.assign(&c.id, "a1", "Alice").await;
        client
            .end_conversation(authed(
                &agent,
                pb::EndConversationRequest {
                    id: c.id.clone(),
                    qualification: Some(pb::Qualification {
                        tags,
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            ))
            .await
            .unwrap();
    }
    let learned = ranked(&h, &probe.id).await;
    assert_eq!(learned[0].0, "fraud", "{learned:?}");
    assert!(learned.windows(2).all(|w| w[0].1 >= w[1].1));
    assert!(learned.iter().all(|(_, s)| (0.0..=1.0).contains(s)));

    let mut c = h.client().await;
    assert_eq!(
        c.recommend_tags(authed(&h.token("v1", Role::Visitor), recommend(&probe.id)))
            .await
            .unwrap_err()
            .code(),
        tonic::Code::PermissionDenied
    );
    assert_eq!(
        c.recommend_tags(authed(
            &h.env.token(livedesk_testkit::new_org(), "a1", Role::Agent),
            recommend(&probe.id)
        ))
        .await
        .unwrap_err()
        .code(),
        tonic::Code::NotFound
    );
    let mut too_many = recommend(&probe.id);
    too_many.limit = 500;
    assert_eq!(
        c.recommend_tags(authed(&agent, too_many))
            .await
            .unwrap_err()
            .code(),
        tonic::Code::InvalidArgument
    );
}
