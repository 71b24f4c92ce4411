//! The fault runs of Livedesk (issue 10), as modules of one test binary
//! (`livedesk_testkit::suite`). They are long and own their servers, so
//! they are `#[ignore]`d in `make test` and run by `make test-faults`.

mod events;
mod services;

/// A test file not declared above would never be compiled.
#[test]
fn every_test_file_is_a_module() {
    livedesk_testkit::suite::assert_declares_every_file(
        env!("CARGO_MANIFEST_DIR"),
        include_str!("main.rs"),
    );
}
