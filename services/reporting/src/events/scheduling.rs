//! Form submissions from `FormSubmitted`, values masked before storage;
//! `FormSubmissionDropped` counts against its block like a dropped message
//! (BLK-3, BLK-7).
use livedesk_events::{EventHandler, HandlerError, ReceivedEvent, Staged};
use livedesk_proto::scheduling::v1::{FormKind, FormSubmissionDropped, FormSubmitted};
use sea_orm::DatabaseTransaction;

use super::{required_label, required_uuid, time_or_occurred};
use crate::domain::mask_customer_name;
use crate::store::{Activity, Facts, NewSubmission};

/// Consumes the scheduling stream.
pub struct SchedulingEvents;

impl EventHandler for SchedulingEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &ReceivedEvent,
    ) -> Result<Vec<Staged>, HandlerError> {
        if let Some(dropped) = event.payload::<FormSubmissionDropped>() {
            let block_id = required_uuid("block_id", &dropped?.block_id)?;
            Facts::count_dropped(txn, event.org_id, block_id).await?;
            return Ok(vec![]);
        }
        let Some(submitted) = event.payload::<FormSubmitted>() else {
            return Ok(vec![]);
        };
        let Some(s) = submitted?.submission else {
            return Err(HandlerError::permanent(
                "FormSubmitted without a submission",
            ));
        };
        let (field_keys, field_values) = s
            .values
            .iter()
            .map(|v| (v.key.clone(), mask_customer_name(&v.value)))
            .unzip();
        let row = NewSubmission {
            org_id: event.org_id,
            submission_id: required_uuid("submission.id", &s.id)?,
            form_id: s.form_id,
            kind: required_label::<FormKind>("submission.kind", s.kind)?,
            queue_id: s.queue_id,
            submitted_at: time_or_occurred(event, s.submitted_at.as_ref()),
            dropped: s.dropped,
            field_keys,
            field_values,
        };
        Activity::insert_submission(txn, &row).await?;
        Ok(vec![])
    }
}
