//! What the widget shows for a queue and a channel (SCH-3).
use uuid::Uuid;

/// Web chat can be switched off; messaging channels never are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    WebChat,
    Messaging,
}

/// The widget's mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WidgetMode {
    Chat,
    OfflineForm(Uuid),
    ContactForm(Uuid),
    Hidden,
    MessagingOutOfHours,
}

/// Decides the mode. `offline_form` / `contact_form` are the enabled forms
/// of the queue (or org-wide), if any.
pub fn decide(
    channel: ChannelKind,
    open: bool,
    staffed: bool,
    offline_form: Option<Uuid>,
    contact_form: Option<Uuid>,
) -> WidgetMode {
    match channel {
        // A message sent out of hours waits for the team: it is never
        // refused, the customer is told when to expect an answer.
        ChannelKind::Messaging if open => WidgetMode::Chat,
        ChannelKind::Messaging => WidgetMode::MessagingOutOfHours,
        ChannelKind::WebChat if open && staffed => WidgetMode::Chat,
        ChannelKind::WebChat => match (offline_form, contact_form) {
            (Some(f), _) => WidgetMode::OfflineForm(f),
            (None, Some(f)) => WidgetMode::ContactForm(f),
            (None, None) => WidgetMode::Hidden,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // spec: SCH-3
    #[test]
    fn chat_needs_open_and_staffed_and_forms_come_in_order() {
        let (o, c) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(
            decide(ChannelKind::WebChat, true, true, Some(o), Some(c)),
            WidgetMode::Chat
        );
        assert_eq!(
            decide(ChannelKind::WebChat, true, false, Some(o), Some(c)),
            WidgetMode::OfflineForm(o)
        );
        assert_eq!(
            decide(ChannelKind::WebChat, false, true, None, Some(c)),
            WidgetMode::ContactForm(c)
        );
        assert_eq!(
            decide(ChannelKind::WebChat, false, true, None, None),
            WidgetMode::Hidden
        );
        assert_eq!(
            decide(ChannelKind::Messaging, false, false, None, None),
            WidgetMode::MessagingOutOfHours
        );
        assert_eq!(
            decide(ChannelKind::Messaging, true, false, None, None),
            WidgetMode::Chat
        );
    }
}
