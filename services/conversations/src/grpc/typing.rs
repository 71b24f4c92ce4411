//! `SendTyping` (NTF-1): typing indicators between the participants of a
//! live conversation. Ephemeral by design: never written to PostgreSQL,
//! never through the outbox or JetStream; one core-NATS message on
//! `<prefix>.typing.<org>` that every notifications replica forwards to the
//! named recipients' open `Subscribe` streams (sequence 0, not resumable).
//!
//! - Who: the conversation's own visitor, or an agent (or supervisor or
//!   admin) taking part in it now; an agent must first see it (TEN-3),
//!   otherwise NOT_FOUND. Services do not type.
//! - Where to: the other side's active participants. A blocked customer's
//!   typing is dropped, and nobody's typing reaches a blocked customer
//!   (BLK-3, NTF-3); the call still succeeds, revealing nothing.
//! - Ended or blocked conversations: FAILED_PRECONDITION.
//! - Rate: at most one forwarded indicator per (principal, conversation)
//!   per second on a replica; calls in between are coalesced (answered OK,
//!   not forwarded). Clients send on keystrokes, so an error would be noise;
//!   receivers expire an indicator after a few seconds without a repeat.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use livedesk_auth::{Principal, Role, principal};
use livedesk_platform::errors::parse_uuid;
use livedesk_proto::conversations::v1 as pb;
use livedesk_proto::notifications::v1::notification::Kind;
use livedesk_proto::notifications::v1::{Notification, Typing};
use prost::Message as _;
use tonic::Request;
use uuid::Uuid;

use super::access::visible;
use super::service::ConversationsGrpc;
use crate::error::Error;
use crate::store::{BlockedCache, ConvRow};

/// Shortest interval between two forwarded indicators of one principal in
/// one conversation.
pub const TYPING_INTERVAL: Duration = Duration::from_secs(1);
/// Entries kept before old ones are swept (bounds memory).
const MAX_TRACKED: usize = 10_000;
/// NATS header naming one recipient (repeated).
pub const RECIPIENT_HEADER: &str = "Livedesk-Recipient";

/// The per-replica rate limit of typing indicators.
#[derive(Debug, Default)]
pub struct TypingGate {
    last: Mutex<HashMap<(Uuid, String, Uuid), Instant>>,
}

impl TypingGate {
    /// Whether an indicator of `who` in `conversation` may be forwarded
    /// now; records it when it may.
    pub fn admit(&self, org: Uuid, who: &str, conversation: Uuid, now: Instant) -> bool {
        let Ok(mut last) = self.last.lock() else {
            return false; // a poisoned lock: drop indicators, they are optional
        };
        if last.len() >= MAX_TRACKED {
            last.retain(|_, at| now.duration_since(*at) < TYPING_INTERVAL);
        }
        let key = (org, who.to_owned(), conversation);
        match last.get(&key) {
            Some(at) if now.duration_since(*at) < TYPING_INTERVAL => false,
            _ => {
                last.insert(key, now);
                true
            }
        }
    }
}

/// Who hears `who` typing in `row`: the other side's active participants;
/// never a blocked customer, and nobody when the typist is one.
fn recipients(who: &Principal, row: &ConvRow, customer_blocked: bool) -> Vec<String> {
    if who.role == Role::Visitor && customer_blocked {
        return vec![];
    }
    let mut out: Vec<String> = row
        .active_agents()
        .into_iter()
        .filter(|a| *a != who.id)
        .collect();
    if who.role != Role::Visitor && !customer_blocked {
        out.push(row.customer_principal_id.clone());
    }
    // An id that cannot be a header value cannot be addressed.
    out.retain(|r| !r.trim().is_empty() && !r.contains(['\r', '\n']));
    out.sort();
    out.dedup();
    out
}

impl ConversationsGrpc {
    /// Forwards a typing indicator to the other side (NTF-1).
    pub(super) async fn send_typing(
        &self,
        req: Request<pb::SendTypingRequest>,
    ) -> Result<pb::SendTypingResponse, Error> {
        let who = principal(&req)?;
        who.require(
            &[Role::Visitor, Role::Agent, Role::Supervisor, Role::Admin],
            "send typing indicators",
        )?;
        let body = req.get_ref();
        let id = parse_uuid("conversation_id", &body.conversation_id)?;
        let row = visible(&self.db, &who, id).await?;
        // The state first, as for replies (BLK-4): an ended or BLOCKED
        // conversation refuses everyone who can see it alike.
        if !row.status()?.is_live() {
            return Err(Error::ConversationEnded);
        }
        if who.role != Role::Visitor && !row.is_active_agent(&who.id) {
            return Err(Error::NotTakingPart("type in it"));
        }
        let blocked = BlockedCache::for_conversation(&self.db, who.org_id, id)
            .await?
            .is_some();
        let to = recipients(&who, &row, blocked);
        if to.is_empty() || !self.typing.admit(who.org_id, &who.id, id, Instant::now()) {
            return Ok(pb::SendTypingResponse {});
        }
        let note = Notification {
            sequence: 0,
            at: Some(livedesk_platform::time::to_proto(chrono::Utc::now())),
            conversation_id: id.to_string(),
            kind: Some(Kind::Typing(Typing {
                principal_id: who.id.clone(),
                typing: body.typing,
            })),
        };
        let mut headers = async_nats::HeaderMap::new();
        for r in &to {
            headers.append(RECIPIENT_HEADER, r.as_str());
        }
        let subject = self.outbox.subjects().typing(&who.org_id.to_string());
        // Best effort, like the indicator itself: a failed publish is logged,
        // never retried or stored.
        if let Err(e) = self
            .rt
            .nats
            .publish_with_headers(subject, headers, note.encode_to_vec().into())
            .await
        {
            tracing::warn!(conversation_id = %id, error = %e, "typing indicator not published");
        }
        Ok(pb::SendTypingResponse {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // spec: NTF-1
    #[test]
    fn one_indicator_per_second_per_principal_and_conversation() {
        let gate = TypingGate::default();
        let (org, conv) = (Uuid::now_v7(), Uuid::now_v7());
        let t0 = Instant::now();
        assert!(gate.admit(org, "v1", conv, t0));
        assert!(!gate.admit(org, "v1", conv, t0 + Duration::from_millis(500)));
        assert!(gate.admit(org, "a1", conv, t0 + Duration::from_millis(500)));
        assert!(gate.admit(org, "v1", Uuid::now_v7(), t0));
        assert!(gate.admit(org, "v1", conv, t0 + TYPING_INTERVAL));
    }
}
