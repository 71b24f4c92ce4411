//! Migrations of the `livedesk_reporting` database.
livedesk_events::migrator! {
    /// Applies the outbox/consumer tables, then the read model.
    Migrator,
    ("m0001_read_model", include_str!("../../migrations/0001_init.sql")),
    ("m0003_qualification", include_str!("../../migrations/0003_qualification.sql")),
    ("m0004_enums_as_text", include_str!("../../migrations/0004_enums_as_text.sql")),
    ("m0005_export_functions", include_str!("../../migrations/0005_export_functions.sql")),
}

#[cfg(test)]
mod tests {
    use livedesk_platform::labels::check_text_migration;
    use livedesk_proto::common::v1::Channel;
    use livedesk_proto::conversations::v1::{ConversationStatus, EndedBy};
    use livedesk_proto::routing::v1::AgentState;
    use livedesk_proto::scheduling::v1::FormKind;

    /// The migration that turned the numbers into text maps each number to
    /// the label the code stores, and its CHECKs allow exactly those.
    #[test]
    fn the_text_migration_agrees_with_the_labels() {
        let sql = include_str!("../../migrations/0004_enums_as_text.sql");
        for result in [
            check_text_migration::<Channel>(sql, "channel"),
            check_text_migration::<ConversationStatus>(sql, "status"),
            check_text_migration::<EndedBy>(sql, "ended_by"),
            check_text_migration::<AgentState>(sql, "from_state"),
            check_text_migration::<AgentState>(sql, "to_state"),
            check_text_migration::<FormKind>(sql, "kind"),
        ] {
            assert_eq!(result, Ok(()));
        }
    }
}
