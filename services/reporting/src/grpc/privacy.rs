//! `DataSubjectService` of the reporting service (PRV-1): the facts, blocks and form submissions of the customer, as one
//! JSON object, served by the shared handler over this service's queries.

/// Serves this service's share of a customer's data.
pub type DataSubjectGrpc = livedesk_platform::subject::DataSubjectGrpc<crate::store::SubjectData>;
