//! One test binary per crate. Every integration test of a crate is a
//! module of `tests/main.rs` (`autotests = false`, one `[[test]]`): a test
//! binary links the whole dependency tree, about 120 MB each here, so one
//! binary instead of up to eighteen saves gigabytes of disk and a link per
//! file on every build. nextest still runs each test in its own process.
//!
//! The cost of the layout is that a test file nobody declares is never
//! compiled; [`assert_declares_every_file`] turns that into a failing test.

use std::collections::BTreeSet;
use std::path::Path;

/// Fails unless `main_rs` (the text of `tests/main.rs`) declares a `mod`
/// for every `.rs` file and every directory with a `mod.rs` directly in
/// `<manifest_dir>/tests`, and nothing else.
pub fn assert_declares_every_file(manifest_dir: &str, main_rs: &str) {
    let dir = Path::new(manifest_dir).join("tests");
    let mut on_disk = BTreeSet::new();
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries {
        let path = entry
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
            .path();
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        let is_module = if path.is_dir() {
            path.join("mod.rs").is_file()
        } else {
            path.extension().is_some_and(|e| e == "rs") && name != "main"
        };
        if is_module {
            on_disk.insert(name);
        }
    }
    let declared: BTreeSet<String> = main_rs
        .lines()
        .filter_map(|l| l.trim().strip_prefix("mod "))
        .filter_map(|l| l.strip_suffix(';'))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        declared,
        on_disk,
        "tests/main.rs must declare exactly the test files of {}",
        dir.display()
    );
}
