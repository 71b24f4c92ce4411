//! Every integration test of livedesk-notifications, as modules of one test binary
//! (`livedesk_testkit::suite`: one link instead of 5, and gigabytes less
//! disk). nextest runs each test in its own process, as before.

mod api;
mod common;
mod feed;
mod masking;
mod smtp;
mod typing;

/// A test file not declared above would never be compiled.
#[test]
fn every_test_file_is_a_module() {
    livedesk_testkit::suite::assert_declares_every_file(
        env!("CARGO_MANIFEST_DIR"),
        include_str!("main.rs"),
    );
}
