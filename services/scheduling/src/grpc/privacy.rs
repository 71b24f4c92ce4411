//! `DataSubjectService` of the scheduling service (PRV-1): the form submissions carrying the customer's email, phone or visitor id, as one
//! JSON object, served by the shared handler over this service's queries.

/// Serves this service's share of a customer's data.
pub type DataSubjectGrpc = livedesk_platform::subject::DataSubjectGrpc<crate::store::SubjectData>;
