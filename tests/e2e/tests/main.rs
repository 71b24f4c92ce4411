//! Every integration test of the end-to-end suite, as modules of one test binary
//! (`livedesk_testkit::suite`: one link instead of 12, and gigabytes less
//! disk). nextest runs each test in its own process, as before.

mod auth_keys;
mod blocking_holes;
mod conversations_bench;
mod forms;
mod health;
mod log_privacy;
mod metrics;
mod operator_cli;
mod platform;
mod privacy;
mod shutdown;
mod skeleton;

/// A test file not declared above would never be compiled.
#[test]
fn every_test_file_is_a_module() {
    livedesk_testkit::suite::assert_declares_every_file(
        env!("CARGO_MANIFEST_DIR"),
        include_str!("main.rs"),
    );
}
