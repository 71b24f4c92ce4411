//! The conversations service's errors: one variant per cause, each with
//! its gRPC code ([`ServiceError`]), turned into a status at one edge by
//! the platform's `to_status` (TEN-4).
use livedesk_platform::errors::{FieldViolation, PeerError, ServiceError};
use tonic::Code;

/// What a `NotFound` cause did not find (the caller sees "<entity> not
/// found").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Conversation,
    Request,
    Contact,
    /// A request, or its contact, of a visitor's own (CNV-11).
    RequestOrContact,
    Template,
    Tag,
    Attachment,
    Erasure,
    /// A peer this service was not configured to ask (privacy exports).
    Peer,
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Entity::Conversation => "conversation",
            Entity::Request => "request",
            Entity::Contact => "contact",
            Entity::RequestOrContact => "request or contact",
            Entity::Template => "template",
            Entity::Tag => "tag",
            Entity::Attachment => "attachment",
            Entity::Erasure => "erasure",
            Entity::Peer => "peer",
        })
    }
}

/// Everything that can go wrong in the conversations service.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Auth(#[from] livedesk_auth::AuthError),
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    #[error("{0} not found")]
    NotFound(Entity),

    // Permission causes.
    /// An agent not in the conversation acts on it; the text names the act
    /// ("reply", "type in it", "end it").
    #[error("only an agent taking part in the conversation can {0}")]
    NotTakingPart(&'static str),
    #[error("only the agent who handled the conversation or a supervisor can change it")]
    NotHandler,
    #[error("only the agent who owns the conversation can pause it")]
    NotOwner,
    #[error("only the conversation's participants handle its attachments")]
    NotParticipant,
    /// Blocking refused the customer (BLK-3).
    #[error("customer is blocked")]
    CustomerBlocked,

    // The conversation's state refuses the act.
    #[error("this conversation is blocked: replies are refused")]
    RepliesBlocked,
    /// The customer writes in a conversation that ended.
    #[error("this conversation has ended")]
    EndedForCustomer,
    /// Staff write in a conversation that ended or is blocked.
    #[error("this conversation is closed: replies are refused")]
    ClosedForReplies,
    #[error("the conversation has ended")]
    ConversationEnded,
    #[error("the conversation has already ended")]
    AlreadyEnded,
    #[error("conversation was interrupted")]
    Interrupted,
    #[error("this conversation has ended: attachments go to the new conversation")]
    AttachmentsAfterEnd,
    /// A follow-up raced with the end of the conversation it continues.
    #[error("the conversation just ended; retry")]
    JustEnded,
    /// A start raced with the end of the customer's previous conversation.
    #[error("a conversation for this customer was just ended; retry")]
    CustomerJustEnded,
    #[error("the team is offline: the conversation cannot continue now")]
    TeamOffline,
    #[error("the qualification is changed after the end; end the conversation instead")]
    QualificationAfterEnd,
    #[error("only messenger, whatsapp and instagram conversations can be paused")]
    NotPausable,
    #[error("only an active conversation can be paused")]
    NotActive,
    #[error("the request's contact has no email address")]
    ContactWithoutEmail,
    #[error("the request's contact has no valid email address")]
    ContactEmailInvalid,
    #[error("the customer is blocked: no email is sent to them")]
    NoEmailToBlocked,
    /// A concurrent send of the same email won; its row is not visible yet.
    #[error("email just sent; retry")]
    EmailJustSent,
    #[error("erasure is irreversible: set confirm to true")]
    ErasureNotConfirmed,
    #[error("the customer has a live conversation: end it before erasing")]
    LiveConversation,

    // Unique names.
    #[error("a template with this name exists")]
    TemplateNameTaken,
    #[error("another tag has this name")]
    TagNameTaken,

    /// A call to another service failed: the platform's one mapping of a
    /// peer's status.
    #[error(transparent)]
    Peer(#[from] PeerError),
    /// A peer's data-subject share is not a JSON document (PRV-1).
    #[error("{service} returned an invalid share: {reason}")]
    InvalidShare { service: String, reason: String },
    /// A stored value that this version cannot read: an error, never a
    /// default (fail closed).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    #[error("database: {0}")]
    Db(#[source] sea_orm::DbErr),
    /// The attachments' object store failed (CNV-6).
    #[error("object store: {0}")]
    Storage(#[from] object_store::Error),
    /// The client's own stream failed or was cancelled: its status (code
    /// and message) is passed on.
    #[error("{}", .0.message())]
    ClientStream(tonic::Status),
}

impl ServiceError for Error {
    fn error_code(&self) -> Code {
        match self {
            Error::Auth(a) => a.code(),
            Error::Invalid(_) => Code::InvalidArgument,
            Error::NotFound(_) => Code::NotFound,
            Error::NotTakingPart(_)
            | Error::NotHandler
            | Error::NotOwner
            | Error::NotParticipant
            | Error::CustomerBlocked => Code::PermissionDenied,
            Error::RepliesBlocked
            | Error::EndedForCustomer
            | Error::ClosedForReplies
            | Error::ConversationEnded
            | Error::AlreadyEnded
            | Error::Interrupted
            | Error::AttachmentsAfterEnd
            | Error::JustEnded
            | Error::CustomerJustEnded
            | Error::TeamOffline
            | Error::QualificationAfterEnd
            | Error::NotPausable
            | Error::NotActive
            | Error::ContactWithoutEmail
            | Error::ContactEmailInvalid
            | Error::NoEmailToBlocked
            | Error::EmailJustSent
            | Error::ErasureNotConfirmed
            | Error::LiveConversation => Code::FailedPrecondition,
            Error::TemplateNameTaken | Error::TagNameTaken => Code::AlreadyExists,
            Error::Peer(p) => p.code(),
            Error::Db(e) => livedesk_platform::errors::db_code(e),
            Error::InvalidShare { .. } | Error::Corrupt(_) | Error::Storage(_) => Code::Internal,
            Error::ClientStream(s) => s.code(),
        }
    }
}

livedesk_platform::status_from_error!(Error, invalid = Invalid);

impl From<sea_orm::DbErr> for Error {
    /// A stored enum label the service does not know is a corrupt row
    /// (`From<UnknownLabel> for DbErr`, `livedesk_platform::labels`), any other database error stays one.
    fn from(e: sea_orm::DbErr) -> Self {
        if let sea_orm::DbErr::TryIntoErr { source, .. } = &e
            && let Some(u) = source.downcast_ref::<livedesk_platform::labels::UnknownLabel>()
        {
            return Error::Corrupt(u.to_string());
        }
        Error::Db(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_keep_their_codes_and_messages() {
        let cases: [(Error, Code, &str); 6] = [
            (
                Error::NotFound(Entity::RequestOrContact),
                Code::NotFound,
                "request or contact not found",
            ),
            (
                Error::NotTakingPart("reply"),
                Code::PermissionDenied,
                "only an agent taking part in the conversation can reply",
            ),
            (
                Error::ConversationEnded,
                Code::FailedPrecondition,
                "the conversation has ended",
            ),
            (
                Error::TemplateNameTaken,
                Code::AlreadyExists,
                "a template with this name exists",
            ),
            (
                Error::Corrupt("status 9".into()),
                Code::Internal,
                "internal error",
            ),
            (
                Error::ClientStream(tonic::Status::cancelled("client went away")),
                Code::Cancelled,
                "client went away",
            ),
        ];
        for (e, code, message) in cases {
            let s = tonic::Status::from(e);
            assert_eq!((s.code(), s.message()), (code, message));
        }
    }

    #[test]
    fn a_peer_that_breaks_its_contract_is_internal() {
        let e = Error::from(PeerError::contract(
            "blocking",
            "blocked without a block id",
        ));
        assert_eq!(tonic::Status::from(e).code(), Code::Internal);
        let e = Error::InvalidShare {
            service: "routing".into(),
            reason: "eof".into(),
        };
        assert_eq!(tonic::Status::from(e).code(), Code::Internal);
    }
}
