//! Live pushes are masked for the support side exactly as `ListMessages`
//! is (CNV-9): the customer reads what they were sent, agents read emails
//! and phone numbers masked unless the org turned masking off.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use livedesk_auth::Role;
use livedesk_testkit::{TestEnv, new_org};
use uuid::Uuid;

const TEXT: &str = "write to melissa@gmail.com or call +447966197542";
const MASKED: &str = "write to m******@gmail.com or call *********7542";

// spec: CNV-9
#[tokio::test]
async fn message_pushes_are_masked_for_agents_and_clear_for_the_customer() {
    let env = TestEnv::new().await.unwrap();
    let (_svc, client) = start(&env).await;
    let org = new_org();
    let conv = Uuid::now_v7().to_string();
    let mut agent = subscribe(&env, &client, org, "agent-1", Role::Agent, 0, false).await;
    let mut visitor = subscribe(&env, &client, org, "visitor-1", Role::Visitor, 0, false).await;
    let audience = ["visitor-1", "agent-1", "agent-2"];

    // The agent writes (a bot or a colleague would be the same): the
    // customer reads it in clear, the other agent masked.
    let mut agent2 = subscribe(&env, &client, org, "agent-2", Role::Agent, 0, false).await;
    publish(
        &env,
        "conversations",
        org,
        &conv,
        &message(&conv, "agent-1", TEXT, &audience, "visitor-1"),
    )
    .await;
    assert_eq!(text(&next(&mut visitor).await), TEXT);
    assert_eq!(text(&next(&mut agent2).await), MASKED);

    // The customer writes: every agent reads it masked.
    publish(
        &env,
        "conversations",
        org,
        &conv,
        &message(&conv, "visitor-1", TEXT, &audience, "visitor-1"),
    )
    .await;
    assert_eq!(text(&next(&mut agent).await), MASKED);
    assert_eq!(text(&next(&mut agent2).await), MASKED);

    // An org that shows PII to its staff gets it in clear.
    let mut clear = message(&conv, "visitor-1", TEXT, &audience, "visitor-1");
    clear.pii_visible_to_staff = true;
    publish(&env, "conversations", org, &conv, &clear).await;
    assert_eq!(text(&next(&mut agent).await), TEXT);
}
