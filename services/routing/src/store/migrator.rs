//! Migrations of the `livedesk_routing` database.
livedesk_events::migrator! {
    /// Applies the outbox tables, then the routing schema.
    Migrator,
    ("m0001_routing", include_str!("../../migrations/0001_init.sql")),
    ("m0002_engine", include_str!("../../migrations/0002_engine.sql")),
    ("m0003_position_runs", include_str!("../../migrations/0003_position_runs.sql")),
    ("m0004_channel_capacity", include_str!("../../migrations/0004_channel_capacity.sql")),
    ("m0006_form_offers", include_str!("../../migrations/0006_form_offers.sql")),
    ("m0005_membership_versions", include_str!("../../migrations/0005_membership_versions.sql")),
    ("m0007_enum_text", include_str!("../../migrations/0007_enum_text.sql")),
    ("m0008_status_checks", include_str!("../../migrations/0008_status_checks.sql")),
}

#[cfg(test)]
mod tests {
    use livedesk_platform::labels::{StoredEnum, sql_list};

    use crate::domain::{AgentState, OfferKind, Strategy, TransferFailurePolicy};

    fn expect<E: StoredEnum>(
        column: &'static str,
        wire: fn(E) -> i32,
    ) -> (&'static str, String, Vec<String>) {
        let arms = E::ALL
            .iter()
            .map(|v| format!("WHEN {} THEN '{}'", wire(*v), v.label()))
            .collect();
        (column, sql_list(E::ALL), arms)
    }

    /// The migration that turned routing's numbers into text maps each
    /// wire number to the label the code stores, and its CHECKs allow
    /// exactly those labels.
    #[test]
    fn the_text_migration_agrees_with_the_labels() {
        let sql = include_str!("../../migrations/0007_enum_text.sql");
        for (column, list, arms) in [
            expect("strategy", Strategy::as_i32),
            expect("transfer_failure_policy", TransferFailurePolicy::as_i32),
            expect("kind", OfferKind::as_i32),
            expect("state", AgentState::as_i32),
            expect("next_state", AgentState::as_i32),
        ] {
            assert!(
                sql.contains(&format!("CHECK ({column} IN {list})")),
                "no CHECK ({column} IN {list})"
            );
            let case = sql
                .split(&format!("TYPE text USING CASE {column}\n"))
                .nth(1)
                .and_then(|rest| rest.split("END;").next())
                .unwrap_or_else(|| panic!("no CASE for {column}"));
            for arm in arms {
                assert!(case.contains(&arm), "{column}: no {arm}");
            }
        }
    }
}
