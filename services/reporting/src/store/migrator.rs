//! Migrations of the `livedesk_reporting` database.
livedesk_events::migrator! {
    /// Applies the outbox/consumer tables, then the read model.
    Migrator,
    ("m0001_read_model", include_str!("../../migrations/0001_init.sql")),
    ("m0003_qualification", include_str!("../../migrations/0003_qualification.sql")),
    ("m0004_enums_as_text", include_str!("../../migrations/0004_enums_as_text.sql")),
}

#[cfg(test)]
mod tests {
    use livedesk_platform::labels::{StoredEnum, sql_case, sql_list};
    use livedesk_proto::common::v1::Channel;
    use livedesk_proto::conversations::v1::{ConversationStatus, EndedBy};
    use livedesk_proto::routing::v1::AgentState;
    use livedesk_proto::scheduling::v1::FormKind;

    fn expect<E: StoredEnum + Into<i32>>(column: &'static str) -> (&'static str, String, String) {
        (column, sql_list(E::ALL), sql_case::<E>())
    }

    /// The migration that turned the numbers into text maps each number to
    /// the label the code stores, and its CHECKs allow exactly those.
    #[test]
    fn the_text_migration_agrees_with_the_labels() {
        let sql = include_str!("../../migrations/0004_enums_as_text.sql");
        for (column, list, case) in [
            expect::<Channel>("channel"),
            expect::<ConversationStatus>("status"),
            expect::<EndedBy>("ended_by"),
            expect::<AgentState>("from_state"),
            expect::<AgentState>("to_state"),
            expect::<FormKind>("kind"),
        ] {
            assert!(
                sql.contains(&format!("CHECK ({column} IN {list})")),
                "no CHECK ({column} IN {list})"
            );
            assert!(
                sql.contains(&format!("USING CASE {column} {case} END")),
                "no CASE {column} {case}"
            );
        }
    }
}
