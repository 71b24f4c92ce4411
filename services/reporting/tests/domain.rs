//! Pure rules: CSV cell safety and round trips (RPT-4), derived durations (RPT-2).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use livedesk_reporting::domain::{ChunkedCsv, CsvOptions, FactTimes, safe_cell};
use proptest::prelude::*;

fn read_back(bytes: &[u8], semicolon: bool) -> Vec<Vec<String>> {
    let body = bytes
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(bytes);
    csv::ReaderBuilder::new()
        .has_headers(true)
        .delimiter(if semicolon { b';' } else { b',' })
        .from_reader(body)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

// spec: RPT-4
#[test]
fn formula_injection_is_neutralised() {
    for bad in ["=cmd()", "+SUM(1)", "-2+3", "@A1", "\t=1", "\r=1"] {
        let safe = safe_cell(bad);
        assert!(safe.starts_with('\''), "{bad:?} -> {safe:?}");
        assert_eq!(&safe[1..], bad);
    }
}

proptest! {
    // spec: RPT-4
    #[test]
    fn no_cell_ever_starts_with_a_dangerous_character(s in any::<String>()) {
        let safe = safe_cell(&s);
        let first = safe.chars().next();
        prop_assert!(!matches!(first, Some('=' | '+' | '-' | '@' | '\t' | '\r')));
        // Nothing but the prefix is ever added.
        prop_assert!(safe == s || safe.strip_prefix('\'') == Some(s.as_str()));
    }

    // spec: RPT-4
    #[test]
    fn every_cell_round_trips_through_a_csv_reader(
        cells in proptest::collection::vec(any::<String>(), 1..5),
        semicolon in any::<bool>(),
        bom in any::<bool>(),
    ) {
        let header: Vec<String> = (0..cells.len()).map(|i| format!("c{i}")).collect();
        let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
        let mut out = ChunkedCsv::new(CsvOptions { semicolon, bom }, &header_refs).unwrap();
        let safe: Vec<String> = cells.iter().map(|c| safe_cell(c).into_owned()).collect();
        out.row(&safe).unwrap();
        let bytes = out.finish().unwrap();
        prop_assert_eq!(bytes.starts_with(b"\xEF\xBB\xBF"), bom);
        prop_assert!(std::str::from_utf8(&bytes).is_ok());
        let rows = read_back(&bytes, semicolon);
        prop_assert_eq!(rows, vec![safe]);
    }

    // spec: RPT-2
    #[test]
    fn wait_plus_handle_is_the_whole_life_of_an_answered_conversation(
        wait in 0i64..100_000, handle in 0i64..100_000, response in 0i64..100_000,
    ) {
        let t = |s: i64| Utc.timestamp_opt(1_767_261_600 + s, 0).single();
        let times = FactTimes {
            queued_at: t(0),
            assigned_at: t(wait),
            first_response_at: t(response),
            ended_at: t(wait + handle),
            abandoned: false,
        };
        let d = times.durations();
        prop_assert_eq!(d.wait.unwrap() + d.handle.unwrap(), (wait + handle) as f64);
        prop_assert_eq!(d.first_response, Some(response as f64));
    }
}
