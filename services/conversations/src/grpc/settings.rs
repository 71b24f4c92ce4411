//! Per-org settings (CNV-9 masking, CNV-13 natural close, PRV-3 retention).
use livedesk_auth::principal;
use livedesk_platform::errors::FieldViolation;
use livedesk_proto::conversations::v1 as pb;
use tonic::Request;

use super::service::ConversationsGrpc;
use crate::error::Error;
use crate::store::{Settings, SettingsRow};

/// The stored settings as the API shows them; a negative stored number is
/// corrupt, never shown as a default (fail closed).
fn view(s: SettingsRow) -> Result<pb::ConversationSettings, Error> {
    let days = |name: &str, n: i32| {
        u32::try_from(n).map_err(|_| Error::Corrupt(format!("settings.{name} = {n}")))
    };
    Ok(pb::ConversationSettings {
        mask_pii: s.mask_pii,
        natural_close_days: days("natural_close_days", s.natural_close_days)?,
        retention_days: days("retention_days", s.retention_days)?,
    })
}

impl ConversationsGrpc {
    /// The org's settings (defaults until changed).
    pub(super) async fn get_settings(
        &self,
        req: Request<pb::GetSettingsRequest>,
    ) -> Result<pb::ConversationSettings, Error> {
        let who = principal(&req)?;
        who.require_staff("read conversation settings")?;
        view(Settings::get(&self.db, who.org_id).await?)
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
        // Each number is checked once, by its conversion: a value out of
        // range is refused, never replaced by a default.
        let natural_close_days = i32::try_from(body.natural_close_days)
            .ok()
            .filter(|d| (1..=365).contains(d))
            .ok_or_else(|| v.push(FieldViolation::new("natural_close_days", "1 to 365 days")));
        let retention_days = i32::try_from(body.retention_days)
            .ok()
            .filter(|d| *d <= 36_500)
            .ok_or_else(|| {
                v.push(FieldViolation::new(
                    "retention_days",
                    "at most 36500 days (0 = keep forever)",
                ))
            });
        let (Ok(natural_close_days), Ok(retention_days)) = (natural_close_days, retention_days)
        else {
            return Err(Error::Invalid(v));
        };
        let s = SettingsRow {
            mask_pii: body.mask_pii,
            natural_close_days,
            retention_days,
        };
        Settings::put(&self.db, who.org_id, s).await?;
        view(s)
    }
}
