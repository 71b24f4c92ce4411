//! Erasure of the reporting service's share (PRV-2, PRV-3), by the shared
//! handler over this service's queries (`crate::store::SubjectData`).

/// Consumes `CustomerErasureRequested` from the conversations stream.
pub type ErasureEvents = livedesk_events::ErasureEvents<crate::store::SubjectData>;
