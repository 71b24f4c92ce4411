//! What scheduling's widget mode means for a new conversation (SCH-3).
use livedesk_platform::errors::PeerError;
use livedesk_proto::conversations::v1::OfflineAction;
use livedesk_proto::scheduling::v1::WidgetMode;

use crate::error::Error;

/// The offline action a widget mode asks for, or `None` when the
/// conversation may start (chat, or a message out of hours that waits for
/// the team).
///
/// An UNSPECIFIED or unknown mode is scheduling breaking its contract: an
/// INTERNAL error, never "open" (fail closed).
pub fn offline_action(mode: i32) -> Result<Option<OfflineAction>, Error> {
    match WidgetMode::try_from(mode) {
        Ok(WidgetMode::Chat | WidgetMode::MessagingOutOfHours) => Ok(None),
        Ok(WidgetMode::OfflineForm) => Ok(Some(OfflineAction::OfflineForm)),
        Ok(WidgetMode::ContactForm) => Ok(Some(OfflineAction::ContactForm)),
        Ok(WidgetMode::Hidden) => Ok(Some(OfflineAction::Hidden)),
        Ok(WidgetMode::Unspecified) => {
            Err(PeerError::contract("scheduling", "widget state without a mode").into())
        }
        Err(_) => {
            Err(PeerError::contract("scheduling", &format!("unknown widget mode {mode}")).into())
        }
    }
}
