//! `DataSubjectService` of the blocking service (PRV-1): the blocks naming the customer's identities or conversations, as one
//! JSON object, served by the shared handler over this service's queries.

/// Serves this service's share of a customer's data.
pub type DataSubjectGrpc = livedesk_platform::subject::DataSubjectGrpc<crate::store::SubjectData>;
