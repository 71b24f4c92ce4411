//! Per-org settings (CNV-9 masking, CNV-13 natural close, PRV-3 retention).
use livedesk_auth::principal;
use livedesk_platform::errors::FieldViolation;
use livedesk_proto::conversations::v1 as pb;
use tonic::Request;

use super::service::ConversationsGrpc;
use crate::error::Error;
use crate::store::{Settings, SettingsRow};

fn view(s: SettingsRow) -> pb::ConversationSettings {
    pb::ConversationSettings {
        mask_pii: s.mask_pii,
        natural_close_days: u32::try_from(s.natural_close_days).unwrap_or(7),
        retention_days: u32::try_from(s.retention_days).unwrap_or(0),
    }
}

impl ConversationsGrpc {
    /// The org's settings (defaults until changed).
    pub(super) async fn get_settings(
        &self,
        req: Request<pb::GetSettingsRequest>,
    ) -> Result<pb::ConversationSettings, Error> {
        let who = principal(&req)?;
        who.require_staff("read conversation settings")?;
        Ok(view(Settings::get(&self.db, who.org_id).await?))
    }

    /// Replaces the org's settings (admins).
    pub(super) async fn update_settings(
        &self,
        req: Request<pb::ConversationSettings>,
    ) -> Result<pb::ConversationSettings, Error> {
        let who = principal(&req)?;
        who.require_admin("change conversation settings")?;
        let body = req.get_ref();
        let mut v = Vec::new();
        if !(1..=365).contains(&body.natural_close_days) {
            v.push(FieldViolation::new("natural_close_days", "1 to 365 days"));
        }
        if body.retention_days > 36_500 {
            v.push(FieldViolation::new(
                "retention_days",
                "at most 36500 days (0 = keep forever)",
            ));
        }
        if !v.is_empty() {
            return Err(Error::Invalid(v));
        }
        let s = SettingsRow {
            mask_pii: body.mask_pii,
            natural_close_days: i32::try_from(body.natural_close_days).unwrap_or(7),
            retention_days: i32::try_from(body.retention_days).unwrap_or(0),
        };
        Settings::put(&self.db, who.org_id, s).await?;
        Ok(view(s))
    }
}
